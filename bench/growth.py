"""Latency and worker memory as the index grows: ~10k, 105k and ~1M Reuters paragraphs.

The corpora are written to /tmp (never the repo): the 10k step is the first
Reuters articles up to 10,547 paragraphs (BBC's size); the 1M step is ten
copies of Reuters, each copy's paragraphs shuffled within every article and its
ids altered (`reuters-12` → `reuters-12-c3`). Each step gets its own searchapp
index (built with --procs and timed; rebuilt only when searchapp's indexing
code differs from the code that built it, since the 1M build takes long) and the Reuters query mix over
one keep-alive connection, as in http_latency.

    .venv/bin/python -m bench.growth                         # 10k, 105k, 1m
    .venv/bin/python -m bench.growth --steps 10k 105k 300k
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .common import (
    CORPORA,
    DATASETS,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Dataset,
    free_port,
    load_queries,
    mark_built,
    ms,
    searchapp_server,
    stale,
    stop_server,
    table,
    write_section,
)
from .http_latency import measure

STEPS = {"10k": 10_547, "105k": None, "300k": 3, "1m": 10}  # paragraphs to stop at, or copies of Reuters
SEED = 20261125


def _copy_of(record: dict, copy: int, rng: random.Random) -> dict:
    paragraphs = record["text"].split("\n\n")
    rng.shuffle(paragraphs)
    return {**record, "id": f"{record['id']}-c{copy}", "text": "\n\n".join(paragraphs)}


def make_corpus(step: str) -> Path:
    """The step's JSON Lines source under SCRATCH (written once): a file, or a folder of one file per copy
    (searchapp reads at most 64 MiB from one file)."""
    if STEPS[step] is None:
        return CORPORA["reuters"]
    path = SCRATCH / f"reuters-{step}" if step != "10k" else SCRATCH / "reuters-10k.jsonl"
    if path.exists():
        return path
    records = [json.loads(line) for line in CORPORA["reuters"].read_text().splitlines() if line.strip()]
    partial = path.with_name(path.name + ".partial")
    if step == "10k":
        with open(partial, "w") as out:
            _write_prefix(out, records, STEPS[step])
    else:
        partial.mkdir(parents=True, exist_ok=True)
        rng = random.Random(SEED)
        for copy in range(STEPS[step]):
            with open(partial / f"copy-{copy:02d}.jsonl", "w") as out:
                for record in records:
                    out.write(json.dumps(record if copy == 0 else _copy_of(record, copy, rng)) + "\n")
    partial.rename(path)
    return path


def _write_prefix(out, records: list[dict], paragraphs: int) -> None:
    written = 0
    for record in records:
        if written >= paragraphs:
            return
        out.write(json.dumps(record) + "\n")
        written += len([p for p in record["text"].split("\n\n") if p.strip()])


def dataset_for(step: str) -> Dataset:
    """The step's data set; the 105k step shares the Reuters index of the other benchmarks."""
    if STEPS[step] is None:
        return DATASETS["reuters"]
    return Dataset(f"growth-{step}", (make_corpus(step),), "reuters")


def build(dataset: Dataset, procs: int) -> float | None:
    """Build the step's searchapp index unless it is up to date; the seconds it took (None if it was)."""
    if not stale(dataset.searchapp_index):
        return None
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(dataset.searchapp_index),
                    "--procs", str(procs), *map(str, dataset.sources)], check=True, stderr=subprocess.DEVNULL,
                   cwd=RUN_DIR)
    mark_built(dataset.searchapp_index)
    return time.perf_counter() - started


def run(steps: Sequence[str], procs: int, quick: bool) -> list[str]:
    queries = load_queries("reuters")[: 60 if quick else None]
    warmup = load_queries("reuters", "warmup")
    rows = []
    for step in steps:
        dataset = dataset_for(step)
        seconds = build(dataset, procs)
        server = searchapp_server(dataset.searchapp_index, free_port())
        try:
            result = measure({"searchapp": server}, dataset, queries, warmup)
        finally:
            stop_server(server)
        documents = _documents(dataset)
        rows.append([step, f"{documents:,}", f"{seconds:.0f}" if seconds else f"(built {_built_at(dataset)})",
                     *(ms(result.p("searchapp", p)) for p in (50, 95, 99)),
                     sum(not s.ok for s in result.samples["searchapp"]),
                     " + ".join(map(str, result.rss["searchapp"]))])
    return ["## Growth (searchapp, Reuters query mix, sequential keep-alive)", "",
            *table(["step", "paragraphs", f"build s (procs={procs})", "p50 ms", "p95 ms", "p99 ms", "errors",
                    "worker RSS MiB (per worker)"], rows), ""]


def _built_at(dataset: Dataset) -> str:
    from searchapp.backends.embedded import EmbeddedBackend

    return str(EmbeddedBackend(dataset.searchapp_index).stats()["built_at"])


def _documents(dataset: Dataset) -> int:
    from searchapp.backends.embedded import EmbeddedBackend

    return int(EmbeddedBackend(dataset.searchapp_index).stats()["paragraphs"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", nargs="+", choices=list(STEPS), default=["10k", "105k", "1m"])
    parser.add_argument("--procs", type=int, default=2, help="writer processes for the step indexes")
    parser.add_argument("--quick", action="store_true", help="only the first 60 queries")
    parser.add_argument("--make-only", action="store_true", help="write the corpora and build the indexes, then stop")
    args = parser.parse_args(argv)
    if args.make_only:
        for step in args.steps:
            dataset = dataset_for(step)
            print(f"{step}: {dataset.sources[0]}, built in {build(dataset, args.procs)} s")
        return
    lines = run(args.steps, args.procs, args.quick)
    print("\n".join(lines))
    print(f"saved {write_section('growth', lines)}")


if __name__ == "__main__":
    main()
