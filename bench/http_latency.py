"""Sequential keep-alive latency of searchapp, the naive app and Datasette, side by side.

All servers run at once on 127.0.0.1; one reused connection per server sends the
query mix of bench/queries.json, the servers taking turns query by query (so
noise on this shared machine hits them alike). A warm-up list (disjoint from the
measured one, so searchapp's result cache never answers a measured query) runs
first. The floor is the naive app's constant-JSON `/floor`; searchapp has no
constant route, so its `/healthz` (document count + metadata) is shown beside it.

    .venv/bin/python -m bench.http_latency                 # BBC and Reuters
    .venv/bin/python -m bench.http_latency --corpus bbc --quick
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from .common import (
    DATASETS,
    Client,
    Dataset,
    Query,
    Server,
    datasette_server,
    free_port,
    load_queries,
    ms,
    naive_server,
    percentile,
    prepare,
    ratio,
    rss_mb,
    search_path,
    searchapp_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)

SERVERS = ("searchapp", "naive", "datasette")
FLOORS = {"naive /floor": ("naive", "/floor"), "searchapp /healthz": ("searchapp", "/healthz")}
QUICK_QUERIES = 60


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    total: int | None
    failure: str = ""  # what went wrong, for the report


@dataclass
class Run:
    """Samples per server (and per floor route) of one data set."""

    dataset: str
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    rss: dict[str, list[float]] = field(default_factory=dict)

    def seconds(self, name: str, kind: str | None = None) -> list[float]:
        return [s.seconds for s in self.samples[name] if s.ok and (kind is None or s.kind == kind)]

    def p(self, name: str, pct: float, kind: str | None = None) -> float:
        return percentile(self.seconds(name, kind), pct)


def start_servers(dataset: Dataset, servers: Sequence[str], workers: int | None = None,
                  threads: int | None = None) -> dict[str, Server]:
    prepare(dataset, servers)
    started: dict[str, Server] = {}
    try:
        for name in servers:
            port = free_port()
            if name == "searchapp":
                started[name] = searchapp_server(dataset.searchapp_index, port, workers, threads)
            elif name == "naive":
                started[name] = naive_server(dataset.naive_index, dataset.sources[0], port, workers, threads)
            else:
                started[name] = datasette_server(dataset.datasette_db, port)
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(servers: dict[str, Server]) -> None:
    for server in servers.values():
        stop_server(server)


def total_of(server: str, body: bytes) -> int | None:
    """The match count a server reports, or None if the body is not what was expected."""
    try:
        data = json.loads(body)
        return int(data["filtered_table_rows_count"] if server == "datasette" else data["total"])
    except (ValueError, KeyError, TypeError):
        return None


def ask(client: Client, server: str, query: Query) -> Sample:
    status, body, seconds = client.get(search_path(server, query))
    total = total_of(server, body) if status == 200 else None
    ok = status == 200 and total is not None
    failure = "" if ok else f"{query.label()!r}: HTTP {status} {body[:120]!r}"
    return Sample(query.kind, seconds, ok, total, failure)


def measure(servers: dict[str, Server], dataset: Dataset, queries: Sequence[Query],
            warmup: Sequence[Query]) -> Run:
    """Warm up, then run `queries` with the servers taking turns; floors after each round."""
    clients = {name: Client(server.port) for name, server in servers.items()}
    for query in warmup:
        for name, client in clients.items():
            ask(client, name, query)
    floors = {label: (clients[server], path) for label, (server, path) in FLOORS.items() if server in clients}
    for client, path in floors.values():
        for _ in range(20):
            client.get(path)
    run = Run(dataset.name)
    names = list(clients)
    for number, query in enumerate(queries):
        for name in names[number % len(names):] + names[: number % len(names)]:
            run.samples[name].append(ask(clients[name], name, query))
        for label, (client, path) in floors.items():
            status, _, seconds = client.get(path)
            run.samples[label].append(Sample("floor", seconds, status == 200, None))
    for client in clients.values():
        client.close()
    run.rss = {name: _rss(server) for name, server in servers.items()}
    return run


def _rss(server: Server) -> list[float]:
    return [round(rss_mb(server.pid), 1)] if server.name == "datasette" else workers_rss_mb(server)


def report(run: Run, queries: Sequence[Query]) -> list[str]:
    names = [n for n in (*SERVERS, *FLOORS) if run.samples.get(n)]
    lines = [f"### {run.dataset}: {len(queries)} queries, sequential keep-alive, ms", ""]
    lines += table(
        ["server", "n", "errors", "p50", "p95", "p99", "mean", "zero-hit", "worker RSS MiB"],
        [[n, len(run.samples[n]), sum(not s.ok for s in run.samples[n]),
          *(ms(run.p(n, p)) for p in (50, 95, 99)),
          ms(sum(run.seconds(n)) / max(1, len(run.seconds(n)))),
          sum(s.total == 0 for s in run.samples[n]) if n in SERVERS else "",
          " + ".join(map(str, run.rss.get(n, []))) if n in SERVERS else ""] for n in names],
    )
    failures = [f"{n}: {s.failure}" for n in names for s in run.samples[n] if not s.ok]
    if failures:
        lines += ["", f"Failures ({len(failures)}), first 5: " + "; ".join(failures[:5])]
    lines += ["", _ratios(run), ""]
    lines += _per_kind(run, [n for n in SERVERS if run.samples.get(n)])
    return lines


def _ratios(run: Run) -> str:
    pairs = [("searchapp", "naive"), ("searchapp", "datasette"), ("searchapp", "naive /floor"),
             ("naive", "naive /floor"), ("datasette", "naive /floor"), ("searchapp", "searchapp /healthz")]
    pairs = [(a, b) for a, b in pairs if run.samples.get(a) and run.samples.get(b)]
    rows = [[f"{a} / {b}", *(ratio(run.p(a, p), run.p(b, p)) for p in (50, 95, 99))] for a, b in pairs]
    return "\n".join(table(["ratio", "p50", "p95", "p99"], rows))


def _per_kind(run: Run, names: list[str]) -> list[str]:
    kinds = list(dict.fromkeys(s.kind for s in run.samples[names[0]]))
    header = ["kind", "n", *(f"{n} p50" for n in names)]
    header += ["searchapp/naive p50"] if {"searchapp", "naive"} <= set(names) else []
    rows = []
    for kind in kinds:
        row = [kind, len(run.seconds(names[0], kind)), *(ms(run.p(n, 50, kind)) for n in names)]
        if {"searchapp", "naive"} <= set(names):
            row.append(ratio(run.p("searchapp", 50, kind), run.p("naive", 50, kind)))
        rows.append(row)
    return ["p50 by query kind (ms):", "", *table(header, rows)]


def run_dataset(dataset: Dataset, servers: Sequence[str], quick: bool) -> list[str]:
    queries = load_queries(dataset.queries)[: QUICK_QUERIES if quick else None]
    warmup = load_queries(dataset.queries, "warmup")[: 15 if quick else None]
    started = start_servers(dataset, servers)
    try:
        run = measure(started, dataset, queries, warmup)
    finally:
        stop_all(started)
    return report(run, queries)


def run(corpora: Sequence[str], servers: Sequence[str], quick: bool) -> list[str]:
    lines = ["## Search latency (sequential keep-alive client)", ""]
    for name in corpora:
        lines += run_dataset(DATASETS[name], servers, quick) + [""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), action="append", help="repeatable [default: all]")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK_QUERIES} queries")
    args = parser.parse_args(argv)
    lines = run(args.corpus or ["bbc", "reuters"], args.servers, args.quick)
    print("\n".join(lines))
    print(f"saved {write_section('http_latency', lines)}")


if __name__ == "__main__":
    main()
