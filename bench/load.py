"""Drive `searchapp serve` with N concurrent keep-alive clients for a bounded time, on 127.0.0.1 only.

Each client is its own process with one reused connection, cycling through the
query mix from its own offset. Reports requests, errors, requests/s, latency
percentiles and the gunicorn workers' RSS (from /proc) before and after.

Modes (one per call):
  (default)        load searchapp for --seconds
  --compare-naive  throughput of searchapp (result cache on, and off) vs the naive app,
                   all three up at once, taking turns in --rounds slices
  --rebuild        serve a BBC index, and while the clients search, `searchapp index build`
                   replaces it with Reuters: failed requests, responses mixing old and new
                   (documents count vs hit ids), seconds from the switch to the new count
  --soak SECONDS   long run over a wider request set (query × pages 1-5, beyond the cache):
                   zero errors, and worker memory at the end within 10 % of where it settled

    .venv/bin/python -m bench.load --corpus reuters --clients 8 --seconds 30
    .venv/bin/python -m bench.load --compare-naive --seconds 30
    .venv/bin/python -m bench.load --rebuild
    .venv/bin/python -m bench.load --soak 300
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from .common import (
    CORPORA,
    DATASETS,
    SCRATCH,
    VENV_BIN,
    Client,
    Dataset,
    Server,
    free_port,
    load_queries,
    ms,
    naive_server,
    paragraphs,
    percentile,
    prepare,
    ratio,
    run_step,
    search_path,
    searchapp_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)

MAX_SECONDS = 900
REBUILD_AFTER = 5.0  # seconds of load before the rebuild starts
AFTER_SWITCH = 15.0  # seconds of load at least after the build ends
SOAK_PAGES = 5


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock time the request was sent
    seconds: float
    ok: bool
    documents: int | None = None  # the "documents" count of the response (checked mode)
    consistent: bool = True  # every hit id belongs to the corpus that count stands for


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
                _mib(self.rss_before), _mib(self.rss_after)]


HEADER = ["target", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "workers RSS before MiB",
          "after MiB"]


def _mib(values: Sequence[float]) -> str:
    return " + ".join(f"{v:.0f}" for v in values) + (f" = {sum(values):.0f}" if len(values) > 1 else "")


# --- the clients (each in its own process) ----------------------------------------------------


def _check(body: bytes, prefixes: dict[int, str]) -> tuple[int | None, bool]:
    """The response's document count, and whether all its hits come from that index's corpus."""
    try:
        data = json.loads(body)
        documents = int(data["documents"])
    except (ValueError, KeyError, TypeError):
        return None, False
    prefix = prefixes.get(documents)
    return documents, prefix is not None and all(hit["id"].startswith(prefix) for hit in data["hits"])


def client_loop(port: int, paths: list[str], offset: int, stop: Event, prefixes: dict[int, str] | None,
                results: Queue) -> None:
    """Send `paths` in a cycle from `offset` over one connection until `stop` is set (or MAX_SECONDS)."""
    client = Client(port)
    samples = []
    number = offset
    give_up = time.time() + MAX_SECONDS
    while not stop.is_set() and time.time() < give_up:
        sent = time.time()
        status, body, seconds = client.get(paths[number % len(paths)])
        number += 1
        if prefixes is None:
            samples.append(Sample(sent, seconds, status == 200))
            continue
        documents, consistent = _check(body, prefixes) if status == 200 else (None, False)
        samples.append(Sample(sent, seconds, status == 200, documents, consistent))
    client.close()
    results.put(samples)


def drive(port: int, paths: list[str], clients: int, seconds: float,
          prefixes: dict[int, str] | None = None, during: Callable[[], None] | None = None) -> list[Sample]:
    """Run `clients` client processes until `during()` returns (default: for `seconds`)."""
    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    processes = [context.Process(target=client_loop, args=(port, paths, i * len(paths) // clients, stop,
                                                           prefixes, results)) for i in range(clients)]
    for process in processes:
        process.start()
    try:
        (during or (lambda: time.sleep(min(seconds, MAX_SECONDS))))()
    finally:
        stop.set()
        samples = [sample for _ in processes for sample in results.get(timeout=MAX_SECONDS)]
        for process in processes:
            process.join()
    return samples


def load(label: str, server: Server, paths: list[str], clients: int, seconds: float) -> LoadResult:
    _warm(server, paths)
    result = LoadResult(label, seconds, rss_before=workers_rss_mb(server))
    result.samples = drive(server.port, paths, clients, seconds)
    result.rss_after = workers_rss_mb(server)
    return result


def _warm(server: Server, paths: list[str], count: int = 40) -> None:
    """A few requests over several connections, so every worker has opened its index."""
    for number in range(count):
        client = Client(server.port)
        client.get(paths[-1 - number % len(paths)])
        client.close()


def search_paths(corpus: str, pages: int = 1) -> list[str]:
    queries = load_queries(corpus) + load_queries(corpus, "warmup")
    return [search_path("searchapp", q, page) for page in range(1, pages + 1) for q in queries]


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
            _warm(server, paths)
        for _ in range(rounds):
            for label, server in servers.items():
                results[label].samples += drive(server.port, paths, clients, seconds / rounds)
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


def mode_rebuild(clients: int, seconds: float, workers: int | None) -> list[str]:
    """Swap a BBC index for a Reuters one under load; check every response is wholly old or new."""
    index = SCRATCH / "rebuild-index"
    shutil.rmtree(index, ignore_errors=True)
    run_step([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(index), str(CORPORA["bbc"])])
    prefixes = {_documents(index): "bbc-", sum(1 for _ in paragraphs([CORPORA["reuters"]])): "reuters-"}
    paths = search_paths("bbc") + search_paths("reuters")
    server = searchapp_server(index, free_port(), workers)
    build: dict[str, object] = {}
    try:
        _warm(server, paths)
        rss_before = workers_rss_mb(server)

        def during() -> None:
            started = time.time()
            time.sleep(REBUILD_AFTER)
            build.update(_rebuild(index))
            time.sleep(max(AFTER_SWITCH, seconds - (time.time() - started)))

        samples = drive(server.port, paths, clients, seconds, prefixes, during)
        rss_after = workers_rss_mb(server)
    finally:
        stop_server(server)
    return _rebuild_report(samples, prefixes, build, _documents(index), clients, rss_before, rss_after)


def _documents(index: Path) -> int:
    from searchapp.backends.embedded import EmbeddedBackend

    return int(EmbeddedBackend(index).stats()["paragraphs"])


def _rebuild(index: Path) -> dict[str, object]:
    """Run the Reuters build, watching the `current` link; the switch time and the build's seconds."""
    before = os.readlink(index / "current")
    switched: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and "at" not in switched:
            if os.readlink(index / "current") != before:
                switched["at"] = time.time()
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.time()
    completed = subprocess.run([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(index),
                                str(CORPORA["reuters"])], capture_output=True, text=True,
                               timeout=MAX_SECONDS)
    ended = time.time()
    done.set()
    watcher.join()
    return {"started": started, "ended": ended, "switched": switched.get("at"), "status": completed.returncode,
            "output": completed.stdout.strip() or completed.stderr.strip()[-300:]}


def _rebuild_report(samples: list[Sample], prefixes: dict[int, str], build: dict[str, object], final: int,
                    clients: int, rss_before: list[float], rss_after: list[float]) -> list[str]:
    switched = build.get("switched")
    new = [s for s in samples if s.documents == final]
    old_after = [s for s in samples if switched and s.documents != final and s.at > switched]
    first_new = min((s.at + s.seconds for s in new), default=None)
    last_old = max((s.at + s.seconds for s in old_after), default=None)
    mixed = [s for s in samples if s.ok and not s.consistent]
    around = [s.seconds for s in samples if switched and switched - 1 <= s.at + s.seconds and s.at <= switched + 5]
    span = max(s.at + s.seconds for s in samples) - min(s.at for s in samples)
    result = LoadResult("searchapp", span, samples, rss_before, rss_after)
    rows = [
        ["requests", len(samples)],
        ["failed (non-200 or no answer)", result.errors],
        ["responses mixing indexes (count not old/new, or hit ids from the other corpus)", len(mixed)],
        ["documents counts seen", ", ".join(f"{d}: {sum(s.documents == d for s in samples)}"
                                           for d in sorted({s.documents for s in samples}, key=str))],
        ["build", f"exit {build.get('status')}, {float(build['ended']) - float(build['started']):.1f} s under load"
                  if build else "did not run"],
        ["new index paragraphs (expected 105543)", final],
        ["first new-count answer after the switch", _after(first_new, switched)],
        ["last old-count answer after the switch", _after(last_old, switched)],
        ["latency p50 / p95 / p99 ms", " / ".join(ms(result.p(p)) for p in (50, 95, 99))],
        ["slowest answer among requests from 1 s before to 5 s after the switch",
         f"{ms(max(around))} ms ({len(around)} requests)" if around else "none"],
        ["workers RSS before → after MiB", f"{_mib(rss_before)} → {_mib(rss_after)}"],
    ]
    return [f"## Rebuild under load: {clients} clients, {span:.0f} s, BBC index replaced by Reuters", "",
            *table(["check", "result"], rows), ""]


def _after(moment: float | None, switched: float | None) -> str:
    return f"{moment - switched:+.2f} s" if moment and switched else "none"


def mode_soak(dataset: Dataset, clients: int, seconds: float, workers: int | None) -> list[str]:
    prepare(dataset, ["searchapp"])
    paths = search_paths(dataset.queries, SOAK_PAGES)
    server = searchapp_server(dataset.searchapp_index, free_port(), workers)
    memory: list[tuple[float, list[float]]] = []
    try:
        _warm(server, paths)
        started = time.time()

        def sample_memory() -> None:
            while time.time() - started < seconds:
                memory.append((time.time() - started, workers_rss_mb(server)))
                time.sleep(min(10.0, max(0.0, seconds - (time.time() - started))))

        samples = drive(server.port, paths, clients, seconds, during=sample_memory)
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
             f"Workers RSS settled at {settle:.0f} s: {_mib(settled)} MiB; at the end: {_mib(memory[-1][1])} MiB "
             f"({growth:+.1%}). {verdict} (zero errors, growth ≤ 10 %).", "",
             "RSS timeline (s: MiB per worker): " + "; ".join(f"{at:.0f}: {_mib(rss)}" for at, rss in memory[::3]), ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), default="reuters")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help=f"load time (capped at {MAX_SECONDS})")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers [default: searchapp's]")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--compare-naive", action="store_true", help="throughput vs the naive app")
    mode.add_argument("--rebuild", action="store_true", help="replace a BBC index by Reuters under load")
    mode.add_argument("--soak", type=float, metavar="SECONDS", help="a long run checking errors and memory")
    parser.add_argument("--rounds", type=int, default=3, help="alternating slices for --compare-naive")
    args = parser.parse_args(argv)
    dataset = DATASETS[args.corpus]
    if args.compare_naive:
        lines, name = mode_compare(dataset, args.clients, args.seconds, args.rounds, args.workers), "throughput"
    elif args.rebuild:
        lines, name = mode_rebuild(args.clients, max(args.seconds, 60.0), args.workers), "rebuild"
    elif args.soak:
        lines, name = mode_soak(dataset, args.clients, args.soak, args.workers), "soak"
    else:
        lines, name = mode_load(dataset, args.clients, args.seconds, args.workers), "load"
    print("\n".join(lines))
    print(f"saved {write_section(name, lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
