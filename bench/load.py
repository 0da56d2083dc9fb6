"""Drive `searchapp serve` with N concurrent keep-alive clients for a bounded time, on 127.0.0.1 only.

Each client is its own process with one reused connection, cycling through the
query mix from its own offset (see clients.py). Reports requests, errors,
requests/s, latency percentiles and the gunicorn workers' RSS (from /proc)
before and after.

Modes (one per call):
  (default)        load searchapp for --seconds
  --compare-naive  throughput of searchapp (result cache on, and off) vs the naive app,
                   all three up at once, taking turns in --rounds slices
  --soak SECONDS   long run over a wider request set (query × pages 1-5, beyond the cache):
                   zero errors, and worker memory at the end within 10 % of where it settled

Rebuilds under load are in rebuild.py, updates under load in updates.py.

    .venv/bin/python -m bench.load --corpus reuters --clients 8 --seconds 30
    .venv/bin/python -m bench.load --compare-naive --seconds 30
    .venv/bin/python -m bench.load --soak 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .clients import MAX_SECONDS, Sample, drive, search_paths, spread, warm
from .common import (
    DATASETS,
    Dataset,
    Server,
    free_port,
    ms,
    naive_server,
    percentile,
    prepare,
    ratio,
    searchapp_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)

SOAK_PAGES = 5


@dataclass
class LoadResult:
    label: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    rss_before: list[float] = field(default_factory=list)
    rss_after: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(not s.ok for s in self.samples)

    @property
    def rps(self) -> float:
        return sum(s.ok for s in self.samples) / self.seconds

    def p(self, pct: float) -> float:
        return percentile([s.seconds for s in self.samples if s.ok], pct)

    def row(self) -> list[object]:
        return [self.label, len(self.samples), self.errors, f"{self.rps:.1f}", *(ms(self.p(p)) for p in (50, 95, 99)),
                mib(self.rss_before), mib(self.rss_after)]


HEADER = ["target", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "workers RSS before MiB",
          "after MiB"]


def mib(values: Sequence[float]) -> str:
    return " + ".join(f"{v:.0f}" for v in values) + (f" = {sum(values):.0f}" if len(values) > 1 else "")


def median_range(values: Sequence[float], digits: int = 1) -> str:
    """The median and the range, "m (min–max)"; "none" when there are no values."""
    if not values:
        return "none"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def load(label: str, server: Server, paths: list[str], clients: int, seconds: float) -> LoadResult:
    warm(server, paths)
    result = LoadResult(label, seconds, rss_before=workers_rss_mb(server))
    result.samples = drive(server.port, spread(paths, clients), seconds)
    result.rss_after = workers_rss_mb(server)
    return result


# --- modes -----------------------------------------------------------------------------------------


def mode_load(dataset: Dataset, clients: int, seconds: float, workers: int | None) -> list[str]:
    prepare(dataset, ["searchapp"])
    server = searchapp_server(dataset.searchapp_index, free_port(), workers)
    try:
        result = load(f"searchapp {dataset.name}", server, search_paths(dataset.queries), clients, seconds)
    finally:
        stop_server(server)
    return [f"## Load: {clients} clients, {seconds:.0f} s, {dataset.name}", "", *table(HEADER, [result.row()]), ""]


def mode_compare(dataset: Dataset, clients: int, seconds: float, rounds: int, workers: int | None) -> list[str]:
    """searchapp (cache on / off) and the naive app, default workers, taking turns in slices."""
    prepare(dataset, ["searchapp", "naive"])
    paths = search_paths(dataset.queries)
    servers = {}
    try:
        servers["searchapp (cache on)"] = searchapp_server(dataset.searchapp_index, free_port(), workers)
        servers["searchapp (cache off)"] = searchapp_server(dataset.searchapp_index, free_port(), workers,
                                                            env={"SEARCHAPP_CACHE_SIZE": "0"})
        servers["naive"] = naive_server(dataset.naive_index, dataset.sources[0], free_port(), workers)
        results = {label: LoadResult(label, 0.0, rss_before=workers_rss_mb(s)) for label, s in servers.items()}
        for server in servers.values():
            warm(server, paths)
        for _ in range(rounds):
            for label, server in servers.items():
                results[label].samples += drive(server.port, spread(paths, clients), seconds / rounds)
                results[label].seconds += seconds / rounds
        for label, server in servers.items():
            results[label].rss_after = workers_rss_mb(server)
    finally:
        for server in servers.values():
            stop_server(server)
    naive = results["naive"]
    lines = [f"## Throughput: {clients} clients, {seconds:.0f} s each ({rounds} alternating slices), "
             f"{dataset.name}, default workers", "", *table(HEADER, [r.row() for r in results.values()]), ""]
    lines += table(["ratio", "req/s", "p50", "p95"], [
        [f"{label} / naive", ratio(r.rps, naive.rps), ratio(r.p(50), naive.p(50)), ratio(r.p(95), naive.p(95))]
        for label, r in results.items() if r is not naive])
    return lines + [""]


def mode_soak(dataset: Dataset, clients: int, seconds: float, workers: int | None) -> list[str]:
    prepare(dataset, ["searchapp"])
    paths = search_paths(dataset.queries, SOAK_PAGES)
    server = searchapp_server(dataset.searchapp_index, free_port(), workers)
    memory: list[tuple[float, list[float]]] = []
    try:
        warm(server, paths)
        started = time.time()

        def sample_memory() -> None:
            while time.time() - started < seconds:
                memory.append((time.time() - started, workers_rss_mb(server)))
                time.sleep(min(10.0, max(0.0, seconds - (time.time() - started))))

        samples = drive(server.port, spread(paths, clients), seconds, during=sample_memory)
        memory.append((time.time() - started, workers_rss_mb(server)))
    finally:
        stop_server(server)
    result = LoadResult(f"searchapp {dataset.name}", seconds, samples, memory[0][1], memory[-1][1])
    settle = min(60.0, seconds / 5)
    settled = next(rss for at, rss in memory if at >= settle)
    growth = sum(memory[-1][1]) / sum(settled) - 1
    verdict = "PASS" if result.errors == 0 and growth <= 0.10 else "FAIL"
    lines = [f"## Soak: {clients} clients, {seconds:.0f} s, {dataset.name}, {len(paths)} distinct requests", "",
             *table(HEADER, [result.row()]), "",
             f"Workers RSS settled at {settle:.0f} s: {mib(settled)} MiB; at the end: {mib(memory[-1][1])} MiB "
             f"({growth:+.1%}). {verdict} (zero errors, growth ≤ 10 %).", "",
             "RSS timeline (s: MiB per worker): " + "; ".join(f"{at:.0f}: {mib(rss)}" for at, rss in memory[::3]), ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), default="reuters")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help=f"load time (capped at {MAX_SECONDS})")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers [default: searchapp's]")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--compare-naive", action="store_true", help="throughput vs the naive app")
    mode.add_argument("--soak", type=float, metavar="SECONDS", help="a long run checking errors and memory")
    parser.add_argument("--rounds", type=int, default=3, help="alternating slices for --compare-naive")
    args = parser.parse_args(argv)
    dataset = DATASETS[args.corpus]
    if args.compare_naive:
        lines, name = mode_compare(dataset, args.clients, args.seconds, args.rounds, args.workers), "throughput"
    elif args.soak:
        lines, name = mode_soak(dataset, args.clients, args.soak, args.workers), "soak"
    else:
        lines, name = mode_load(dataset, args.clients, args.seconds, args.workers), "load"
    print("\n".join(lines))
    print(f"saved {write_section(name, lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
