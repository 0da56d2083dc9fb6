"""Two versions of searchapp in one sitting: build speed and search latency, before and after a change.

"before" is a commit exported with `git archive` under SCRATCH (default 34b2c19, the
last commit before the engine moved to searchapp/backends/embedded); "after" is the
code under test (or `--after COMMIT`). Both run with this checkout's venv (the same Whoosh, numpy and
Flask: only searchapp differs), every process from SCRATCH with PYTHONPATH set to
its version's code.

- Build speed: `build_index(folder, [corpus])` with the default processes, timed in
  a fresh child process (no interpreter start-up), the two versions taking turns
  (before, after, after, before, …) for each corpus. The last build of each version
  is the index it serves below.
- Latency: both versions served at once (default workers), one keep-alive
  connection each; after the warm-up list, the query mix of bench/queries.json with
  the two taking turns query by query. The servers are restarted for every run, so
  each run starts alike and no measured query hits a result cache.

Reported per corpus: each version's median and range over the runs, the after/before
ratio of the medians, and the range of the per-run ratios (how noisy the sitting was).

    .venv/bin/python -m bench.before_after                     # 34b2c19 vs this code, 6 runs
    .venv/bin/python -m bench.before_after --before main~3 --runs 4 --corpus bbc
    .venv/bin/python -m bench.before_after --before 34b2c19 --after baa6db6      # two commits
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    CODE,
    CORPORA,
    HOST,
    REPO,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Client,
    Server,
    free_port,
    load_queries,
    percentile,
    start_server,
    stop_server,
    table,
    write_section,
)
from .http_latency import ask

BEFORE = "34b2c19"
MEASURES = ("build", "latency")
BUILD_MODULES = ("searchapp.backends.embedded.build", "searchapp.indexing")  # where build_index lived
BUILD_CHILD = """
import json, sys, time
from importlib import import_module
from pathlib import Path
build_index = import_module(sys.argv[1]).build_index
started = time.perf_counter()
summary = build_index(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
print(json.dumps({"paragraphs": summary.paragraphs, "seconds": time.perf_counter() - started}))
"""


@dataclass(frozen=True)
class Side:
    name: str  # "before" or "after"
    code: Path  # the folder holding its searchapp package
    label: str  # the commit

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": str(self.code)}

    @property
    def build_module(self) -> str:
        for module in BUILD_MODULES:
            if (self.code / (module.replace(".", "/") + ".py")).is_file():
                return module
        raise RuntimeError(f"{self.code}: no build_index in any of {', '.join(BUILD_MODULES)}")

    def index(self, corpus: str) -> Path:
        return SCRATCH / "before-after" / f"{self.name}-{corpus}"


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def exported(commit: str, name: str = "before") -> Side:
    """The code of `commit`, exported once to SCRATCH/code-COMMIT."""
    short = git("rev-parse", "--short", commit)
    target = SCRATCH / f"code-{short}"
    if not (target / "searchapp").is_dir():
        partial = SCRATCH / f"code-{short}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", short], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(target)
    return Side(name, target, short)


def this_code() -> Side:
    label = os.environ.get("SEARCHAPP_BENCH_REV", "?") if CODE != REPO else git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--", "searchapp") if CODE == REPO else ""
    return Side("after", CODE, label + (" + uncommitted changes" if changed else ""))


# --- build speed ---------------------------------------------------------------------------------------


def build(side: Side, corpus: str) -> float:
    """Build `corpus` into the side's index folder afresh; paragraphs per second of the build call."""
    index = side.index(corpus)
    shutil.rmtree(index, ignore_errors=True)
    index.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run([str(VENV_BIN / "python"), "-c", BUILD_CHILD, side.build_module, str(index),
                                str(CORPORA[corpus])], capture_output=True, text=True, check=True, cwd=RUN_DIR,
                               env={**os.environ, **side.env})
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["paragraphs"] / result["seconds"]


def build_runs(sides: Sequence[Side], corpus: str, runs: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {side.name: [] for side in sides}
    for number in range(runs):
        for side in _turns(sides, number):
            rates[side.name].append(build(side, corpus))
            print(f"build {corpus} {side.name}: {rates[side.name][-1]:.0f} paragraphs/s", file=sys.stderr)
    return rates


def _turns(sides: Sequence[Side], number: int) -> list[Side]:
    """The order of run `number`: before, after; then after, before; and so on."""
    return list(sides) if number % 2 == 0 else list(reversed(sides))


# --- latency -----------------------------------------------------------------------------------------------


def serve(side: Side, corpus: str) -> Server:
    port = free_port()
    argv = [str(VENV_BIN / "searchapp"), "serve", "--host", HOST, "--port", str(port),
            "--index", str(side.index(corpus))]
    return start_server(f"searchapp-{side.name}", argv, port, "/healthz", env=side.env, cwd=RUN_DIR)


def latency_run(sides: Sequence[Side], corpus: str) -> tuple[dict[str, list[tuple[str, float]]], int, int]:
    """One run: ((kind, seconds) per query per side, queries whose totals differ between the sides, failures)."""
    queries, warmup = load_queries(corpus), load_queries(corpus, "warmup")
    servers: dict[str, Server] = {}
    try:
        for side in sides:
            servers[side.name] = serve(side, corpus)
        clients = {name: Client(server.port) for name, server in servers.items()}
        for query in warmup:
            for client in clients.values():
                ask(client, "searchapp", query)
        seconds: dict[str, list[tuple[str, float]]] = {name: [] for name in clients}
        differ = failed = 0
        for number, query in enumerate(queries):
            samples = {side.name: ask(clients[side.name], "searchapp", query) for side in _turns(sides, number)}
            for name, sample in samples.items():
                if sample.ok:
                    seconds[name].append((query.kind, sample.seconds))
                failed += not sample.ok
            differ += len({sample.total for sample in samples.values()}) > 1
        for client in clients.values():
            client.close()
    finally:
        for server in servers.values():
            stop_server(server)
    return seconds, differ, failed


@dataclass
class Latencies:
    """Per side, one value per run (seconds): p50 and p95 of all queries, and p50 of each query kind."""

    p50: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    p95: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    kinds: dict[str, dict[str, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    differ: int = 0
    failed: int = 0


def latency_runs(sides: Sequence[Side], corpus: str, runs: int) -> Latencies:
    found = Latencies()
    for number in range(runs):
        seconds, differ, failed = latency_run(_turns(sides, number), corpus)
        found.differ, found.failed = found.differ + differ, found.failed + failed
        for name, samples in seconds.items():
            found.p50[name].append(percentile([s for _, s in samples], 50))
            found.p95[name].append(percentile([s for _, s in samples], 95))
            for kind in dict.fromkeys(k for k, _ in samples):
                found.kinds[name][kind].append(percentile([s for k, s in samples if k == kind], 50))
        print(f"latency {corpus} run {number + 1}: " + ", ".join(
            f"{n} p50 {found.p50[n][-1] * 1000:.1f} p95 {found.p95[n][-1] * 1000:.1f} ms" for n in seconds),
            file=sys.stderr)
    return found


# --- the report ---------------------------------------------------------------------------------------------


def compared(before: list[float], after: list[float], scale: float = 1.0, digits: int = 0) -> list[str]:
    """Cells: before median (range), after median (range), ratio of the medians, per-run ratios median (range)."""
    def cell(values: list[float]) -> str:
        values = [v * scale for v in values]
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"

    ratios = [a / b for a, b in zip(after, before)]
    return [cell(before), cell(after), f"**{statistics.median(after) / statistics.median(before):.2f}×**",
            f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"]


def run(before: str, corpora: Sequence[str], runs: int, after: str | None = None,
        measures: Sequence[str] = MEASURES) -> list[str]:
    sides = [exported(before), exported(after, "after") if after else this_code()]
    header = ["corpus", f"before {sides[0].label}, median (range)", f"after {sides[1].label}, median (range)",
              "after / before", "per-run ratios, median (range)"]
    started_load = os.getloadavg()[0]
    lines = [f"## Before and after: {sides[0].label} vs {sides[1].label}, {runs} runs each, taking turns", ""]
    if "build" in measures:
        rows = [[corpus, *compared(rates["before"], rates["after"])]
                for corpus, rates in ((c, build_runs(sides, c, runs)) for c in corpora)]
        lines += [f"Build speed, paragraphs/s (default processes; higher is better; before builds with "
                  f"`{sides[0].build_module}`, after with `{sides[1].build_module}`):", "", *table(header, rows), ""]
    if "latency" in measures:
        lines += _latency_report(sides, corpora, runs, header, fresh="build" not in measures)
    return lines + [f"Load average {started_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.", ""]


def _latency_report(sides: Sequence[Side], corpora: Sequence[str], runs: int, header: list[str],
                    fresh: bool) -> list[str]:
    p50_rows, p95_rows, kind_rows, notes = [], [], [], []
    for corpus in corpora:
        if fresh:  # no timed builds ran: each version builds the index it serves
            for side in sides:
                build(side, corpus)
        found = latency_runs(sides, corpus, runs)
        p50_rows.append([corpus, *compared(found.p50["before"], found.p50["after"], 1000, 1)])
        p95_rows.append([corpus, *compared(found.p95["before"], found.p95["after"], 1000, 1)])
        kind_rows += [[corpus, kind, *compared(found.kinds["before"][kind], found.kinds["after"][kind], 1000, 1)]
                      for kind in found.kinds["before"]]
        notes.append(f"{corpus}: {found.failed} failed requests; {found.differ} of {runs * len(load_queries(corpus))} "
                     "query answers with other totals before than after")
    return ["Search latency p50, ms (sequential keep-alive, both served at once, queries alternating):", "",
            *table(header, p50_rows), "", "Search latency p95, ms:", "", *table(header, p95_rows), "",
            "p50 by query kind, ms:", "", *table(["corpus", "kind", *header[1:]], kind_rows), "",
            "; ".join(notes) + ".", ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE, help=f"the commit to compare with [default: {BEFORE}]")
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append", help="repeatable [default: all]")
    parser.add_argument("--runs", type=int, default=6, help="runs per version and corpus (even: each first as often)")
    parser.add_argument("--after", help="another commit in place of the code under test")
    parser.add_argument("--measures", nargs="+", choices=MEASURES, default=list(MEASURES), help="[default: both]")
    args = parser.parse_args(argv)
    lines = run(args.before, args.corpus or ["bbc", "reuters"], args.runs, args.after, args.measures)
    print("\n".join(lines))
    print(f"saved {write_section('before_after', lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
