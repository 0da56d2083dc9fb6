"""Indexing speed, peak memory and index size: searchapp's build beside a plain Whoosh writer.

Each build runs in a fresh child process (so memory is its own); the parent polls
/proc every 50 ms for the summed RSS of the child and its descendants (the
worker processes of `procs=2`); the child reports getrusage's peak of the
largest single process beside it. Builders, in the same run and in this order per corpus:

- plain:        title + text TEXT(StemmingAnalyzer), `ix.writer()` with default settings
- searchapp-p1: searchapp.backends.embedded.build.build_index(..., procs=1): everything in the build's process
- searchapp-p2: the same with procs=2: two worker processes (the default on 2 CPUs)

All are fed the same paragraphs (searchapp's own reader and splitter, entities included),
so every builder's time includes reading, splitting and entity extraction.

    .venv/bin/python -m bench.index_bench                  # BBC and Reuters
    .venv/bin/python -m bench.index_bench --corpus bbc --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .common import (
    DATASETS,
    REPO,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Dataset,
    descendants,
    paragraphs,
    ratio,
    rss_mb,
    table,
    write_section,
)

BUILDERS = ("plain", "searchapp-p1", "searchapp-p2")
POLL_SECONDS = 0.05


@dataclass
class Build:
    builder: str
    paragraphs: int
    seconds: float
    peak_rss_mb: float  # sum over the process tree, polled
    max_process_rss_mb: float  # getrusage in the child: its own peak or its largest sub-process's
    size_mb: float

    @property
    def rate(self) -> float:
        return self.paragraphs / self.seconds


# --- in the child process -----------------------------------------------------------


def build_plain(index_dir: Path, sources: list[Path]) -> tuple[int, Path]:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import TEXT, Schema

    ix = whoosh_index.create_in(index_dir, Schema(title=TEXT(analyzer=StemmingAnalyzer()),
                                                  text=TEXT(analyzer=StemmingAnalyzer())))
    count = 0
    with ix.writer() as writer:
        for paragraph in paragraphs(sources):
            writer.add_document(title=paragraph.title, text=paragraph.text)
            count += 1
    ix.close()
    return count, index_dir


def build_searchapp(index_dir: Path, sources: list[Path], procs: int) -> tuple[int, Path]:
    from searchapp.backends.embedded.build import build_index
    from searchapp.backends.embedded.generations import current_generation

    summary = build_index(index_dir, sources, procs=procs)
    return summary.paragraphs, current_generation(index_dir)


def child(builder: str, index_dir: Path, sources: list[Path]) -> None:
    """Build, then print {"paragraphs", "seconds", "size_bytes", "max_rss_kb"} as JSON."""
    started = time.perf_counter()
    if builder == "plain":
        count, built = build_plain(index_dir, sources)
    else:
        count, built = build_searchapp(index_dir, sources, int(builder[-1]))
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in built.rglob("*") if f.is_file())
    max_rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"paragraphs": count, "seconds": seconds, "size_bytes": size, "max_rss_kb": max_rss}))


# --- in the parent ----------------------------------------------------------------------


def measure(builder: str, dataset: Dataset) -> Build:
    """Run one build in a child process, polling its tree's memory."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    index_dir = Path(tempfile.mkdtemp(prefix=f"index-bench-{builder}-", dir=SCRATCH))
    argv = [str(VENV_BIN / "python"), "-m", "bench.index_bench", "--child", builder, "--index", str(index_dir),
            *map(str, dataset.sources)]
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=RUN_DIR, env=_bench_env())
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, sum(rss_mb(pid) for pid in [process.pid, *descendants(process.pid)]))
            time.sleep(POLL_SECONDS)
        if process.returncode:
            raise RuntimeError(f"{builder} build failed ({process.returncode})")
        result = json.loads(process.stdout.read())
        return Build(builder, result["paragraphs"], result["seconds"], round(peak, 1),
                     round(result["max_rss_kb"] / 1024, 1), round(result["size_bytes"] / 1024 / 1024, 1))
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)


def _bench_env() -> dict[str, str]:
    """The environment of a child run from RUN_DIR: `bench` found in the checkout, after the code under test."""
    path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))
    return {**os.environ, "PYTHONPATH": path}


def median_build(builds: list[Build]) -> Build:
    chosen = sorted(builds, key=lambda b: b.seconds)[len(builds) // 2]
    return Build(chosen.builder, chosen.paragraphs, statistics.median(b.seconds for b in builds),
                 max(b.peak_rss_mb for b in builds), max(b.max_process_rss_mb for b in builds), chosen.size_mb)


def report(dataset: Dataset, builds: list[Build], repeat: int) -> list[str]:
    plain = next((b for b in builds if b.builder == "plain"), None)

    def versus(value: float, base: float) -> str:
        return ratio(value, base) if plain else ""

    lines = [f"### {dataset.name}: {builds[0].paragraphs} paragraphs (median of {repeat})", ""]
    rows = []
    for b in builds:
        rows.append([b.builder, f"{b.seconds:.1f}", f"{b.rate:.0f}", b.peak_rss_mb, b.max_process_rss_mb, b.size_mb,
                     versus(b.rate, plain and plain.rate), versus(b.peak_rss_mb, plain and plain.peak_rss_mb),
                     versus(b.size_mb, plain and plain.size_mb)])
    lines += table(["builder", "seconds", "paragraphs/s", "peak RSS MiB (tree)", "largest process MiB", "size MiB",
                    "speed vs plain", "RSS vs plain", "size vs plain"], rows)
    return lines + [""]


def run(corpora: Sequence[str], builders: Sequence[str], repeat: int) -> list[str]:
    lines = ["## Indexing", "",
             "Peak RSS: polled sum over the build's process tree; largest process: getrusage in the build process. "
             "Seconds: the build call only (no interpreter start-up).", ""]
    for name in corpora:
        dataset = DATASETS[name]
        runs: dict[str, list[Build]] = {b: [] for b in builders}
        for _ in range(repeat):
            for builder in builders:
                build = measure(builder, dataset)
                print(f"{name} {builder}: {build}", file=sys.stderr)
                runs[builder].append(build)
        lines += report(dataset, [median_build(b) for b in runs.values()], repeat)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), action="append", help="repeatable [default: all]")
    parser.add_argument("--builders", nargs="+", choices=BUILDERS, default=list(BUILDERS))
    parser.add_argument("--repeat", type=int, default=1, help="builds per builder; the median is reported")
    parser.add_argument("--child", choices=BUILDERS, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("sources", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.index, args.sources)
        return
    lines = run(args.corpus or ["bbc", "reuters"], args.builders, args.repeat)
    print("\n".join(lines))
    print(f"saved {write_section('index_bench', lines)}")


if __name__ == "__main__":
    main()
