"""What entities cost a build: BBC built in one process without entities, with them as today
(per article), and with canonical names across the archive as the build would make them.

    python bench/entity_build.py [--runs 3] [--corpus PATH] [--modes off rules canonical]

The three builds run interleaved, `--runs` times each, in fresh processes; it prints the
median wall and CPU seconds of each and their ratio to the build without entities. CPU
time is the steadier figure on a shared machine. SEARCHAPP_BENCH_CODE=/path measures the
searchapp code at that path (an older commit exported with `git archive`; `--modes off rules`).

"canonical" is the two-phase build (see the README, "People, places and organisations"):
it extracts every article's names, counts them (`EntityNames`), makes the `Canonicalizer`
and applies it, then builds the index with those names. Until the build code does this
itself, the segment builder's `split_paragraphs` is given the names made beforehand; the time of
making them (reading the articles left out) is added to the build's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("SEARCHAPP_BENCH_CODE") or ROOT)
BBC = ROOT.parent / "shared" / "corpus" / "bbc"
MODES = ("off", "rules", "canonical")

_CHILD = r"""
import importlib, json, sys, time
from pathlib import Path
from searchapp.articles import ReadReport, read_articles
mode, corpus, index = sys.argv[1:4]
try:  # the embedded backend's layout, else the one before it (searchapp/indexing.py)
    indexing = importlib.import_module("searchapp.backends.embedded.build")
    builder = importlib.import_module("searchapp.backends.embedded.segments")
except ImportError:
    indexing = builder = importlib.import_module("searchapp.indexing")
extra_wall = extra_cpu = 0.0
if mode == "canonical":
    from searchapp.entities import EntityNames, load_aliases
    from searchapp.paragraphs import article_entities, split_paragraphs
    articles = list(read_articles([Path(corpus)], ReadReport()))
    wall, cpu = time.perf_counter(), time.process_time()
    names, found = EntityNames(), {}
    for article in articles:
        found[article.id] = article_entities(article)
        names.add_article(found[article.id], article.source)
    canon = names.canonicalizer(load_aliases())
    named = {a.id: [canon.apply(e, a.source) for e in found[a.id]] for a in articles}
    extra_wall, extra_cpu = time.perf_counter() - wall, time.process_time() - cpu
    builder.split_paragraphs = lambda article, entities="rules": split_paragraphs(article, named=named[article.id])
wall, cpu = time.perf_counter(), time.process_time()
summary = indexing.build_index(Path(index), [Path(corpus)], procs=1, entities="off" if mode == "off" else "rules")
print(json.dumps({"wall": time.perf_counter() - wall + extra_wall, "cpu": time.process_time() - cpu + extra_cpu,
                  "paragraphs": summary.paragraphs}))
"""


def run(mode: str, corpus: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="entity-build-") as scratch:
        env = {**os.environ, "PYTHONPATH": str(CODE)}
        out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(corpus), str(Path(scratch) / "index")],
                             check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=BBC)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args(argv)
    modes = ["off", *(m for m in args.modes if m != "off")]
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for _ in range(args.runs):
        for mode in modes:
            results[mode].append(run(mode, args.corpus))
    base = {k: statistics.median(r[k] for r in results["off"]) for k in ("wall", "cpu")}
    print("| build | wall s (median) | CPU s (median) | wall ratio | CPU ratio |")
    print("|---|---|---|---|---|")
    for mode in modes:
        wall = statistics.median(r["wall"] for r in results[mode])
        cpu = statistics.median(r["cpu"] for r in results[mode])
        print(f"| {mode} | {wall:.2f} | {cpu:.2f} | {wall / base['wall']:.2f} | {cpu / base['cpu']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
