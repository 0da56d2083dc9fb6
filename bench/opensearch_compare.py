"""The embedded index beside a 1-node and a 2-node OpenSearch cluster, in the same run.

For each growth step (Reuters prefixes/copies of bench/growth.py: 10k, 105k, optionally 1m paragraphs)
the embedded index and both clusters get the same sources, each with searchapp's own build; three
`searchapp serve` processes (one per backend, same workers) then answer:

- latency: the Reuters query mix, sequential keep-alive, the servers taking turns query by query
  (bench.http_latency.measure), p50/p95, and how many totals differ from the embedded index's;
- throughput: `CLIENTS` client processes for `SECONDS` each against one server at a time (bench.load);
- memory: RSS of the java processes of each cluster, and of the searchapp workers.

The 1-node cluster has 1 shard; the 2-node cluster 2 shards and 1 replica (the failover test's
layout). Clusters run from scripts/opensearch-local.sh on free ports with their state under
SCRATCH; the embedded index is built under SCRATCH too (its own folder, not the other parts').

    .venv/bin/python -m bench --parts opensearch
    .venv/bin/python -m bench.opensearch_compare --steps 10k 105k
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from . import growth
from .common import (
    HOST,
    REPO,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Dataset,
    Server,
    free_port,
    load_queries,
    ms,
    rss_mb,
    start_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)
from .http_latency import measure
from .load import load, search_paths

SCRIPT = REPO / "scripts" / "opensearch-local.sh"
CLUSTERS = {"opensearch 1 node": (1, 1), "opensearch 2 nodes": (2, 2)}  # name: (nodes, shards)
CLIENTS, SECONDS, QUICK_SECONDS = 4, 20.0, 5.0
WORKERS = 2


def _consecutive_free(count: int, avoid: range = range(0)) -> int:
    for _ in range(200):
        first = free_port()
        ports = range(first, first + count)
        if set(ports) & set(avoid):
            continue
        try:
            for port in ports[1:]:
                with socket.socket() as probe:
                    probe.bind((HOST, port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


def start_cluster(name: str, nodes: int) -> tuple[Path, list[tuple[str, int]]]:
    """A fresh cluster of `nodes` nodes; its state folder and (URL, java pid) per node."""
    state = SCRATCH / f"opensearch-compare-{nodes}n"
    http = _consecutive_free(nodes)
    transport = _consecutive_free(nodes, range(http, http + nodes))
    argv = ["bash", str(SCRIPT), "start", "--fresh", "--nodes", str(nodes), "--http-port", str(http),
            "--transport-port", str(transport)]
    started = subprocess.run(argv, env={**os.environ, "OPENSEARCH_LOCAL_DIR": str(state)}, capture_output=True,
                             text=True, timeout=900)
    if started.returncode != 0:
        raise RuntimeError(f"{name} did not start: {started.stderr[-2000:]}")
    lines = [line.split() for line in started.stdout.splitlines() if line.startswith("node-")]
    return state, [(url, int(pid)) for _, url, _, pid in lines]


def stop_cluster(state: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop"], env={**os.environ, "OPENSEARCH_LOCAL_DIR": str(state)},
                   capture_output=True, timeout=120)


def opensearch_env(urls: Sequence[str], shards: int) -> dict[str, str]:
    return {"SEARCHAPP_BACKEND": "opensearch", "SEARCHAPP_OPENSEARCH_URL": ",".join(urls),
            "SEARCHAPP_OPENSEARCH_INDEX": "bench", "SEARCHAPP_OPENSEARCH_SHARDS": str(shards),
            "SEARCHAPP_OPENSEARCH_TIMEOUT": "60"}


def timed_build(dataset: Dataset, index: Path | None, env: dict[str, str]) -> float:
    """Seconds `searchapp index build` took (into the index folder `index`, or the cluster `env` names)."""
    argv = [str(VENV_BIN / "searchapp"), "index", "build", *map(str, dataset.sources)]
    if index is not None:
        shutil.rmtree(index, ignore_errors=True)
        argv[3:3] = ["--index", str(index)]
    started = time.perf_counter()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL, env={**os.environ, **env}, cwd=RUN_DIR)
    return time.perf_counter() - started


def serve(name: str, index: Path | None, env: dict[str, str]) -> Server:
    port = free_port()
    argv = [str(VENV_BIN / "searchapp"), "serve", "--host", HOST, "--port", str(port), "--workers", str(WORKERS)]
    argv += ["--index", str(index)] if index is not None else []
    # no result cache: the throughput loop repeats the query mix, and OpenSearch caches no hits either
    return start_server(name.replace(" ", "-"), argv, port, "/healthz", env={**env, "SEARCHAPP_CACHE_SIZE": "0"},
                        cwd=RUN_DIR)


def run_step(step: str, quick: bool) -> list[list[object]]:
    dataset = growth.dataset_for(step)
    index = SCRATCH / f"opensearch-compare-embedded-{step}"
    builds = {"embedded": timed_build(dataset, index, {"SEARCHAPP_BACKEND": "embedded"})}
    clusters: dict[str, tuple[Path, list[tuple[str, int]]]] = {}
    servers: dict[str, Server] = {}
    try:
        servers["embedded"] = serve("embedded", index, {"SEARCHAPP_BACKEND": "embedded"})
        for name, (nodes, shards) in CLUSTERS.items():
            clusters[name] = start_cluster(name, nodes)
            env = opensearch_env([url for url, _ in clusters[name][1]], shards)
            builds[name] = timed_build(dataset, None, env)
            servers[name] = serve(name, None, env)
        queries = load_queries("reuters")[: 60 if quick else None]
        latency = measure(servers, dataset, queries, load_queries("reuters", "warmup"))
        paths = search_paths("reuters")
        throughput = {name: load(name, server, paths, CLIENTS, QUICK_SECONDS if quick else SECONDS)
                      for name, server in servers.items()}
        java = {name: [rss_mb(pid) for _, pid in nodes] for name, (_, nodes) in clusters.items()}
        workers = {name: workers_rss_mb(server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            stop_server(server)
        for state, _ in clusters.values():
            stop_cluster(state)
    expected = [s.total for s in latency.samples["embedded"]]
    rows = []
    for name in servers:
        samples = latency.samples[name]
        differ = sum(s.total != e for s, e in zip(samples, expected))
        memory = " + ".join(f"{m:.0f}" for m in java.get(name, [])) or "–"
        rows.append([step, name, f"{builds[name]:.0f}", ms(latency.p(name, 50)), ms(latency.p(name, 95)),
                     sum(not s.ok for s in samples) + throughput[name].errors, differ,
                     f"{throughput[name].rps:.1f}", ms(throughput[name].p(50)), memory,
                     " + ".join(f"{m:.0f}" for m in workers[name])])
    return rows


def run(steps: Sequence[str], quick: bool) -> list[str]:
    rows = [row for step in steps for row in run_step(step, quick)]
    seconds = QUICK_SECONDS if quick else SECONDS
    return ["## Embedded index vs OpenSearch (Reuters query mix)", "",
            f"Latency: sequential keep-alive, servers taking turns; throughput: {CLIENTS} client processes, "
            f"{seconds:.0f} s per server; every server `searchapp serve --workers {WORKERS}`, result cache off. "
            "OpenSearch 1 node: 1 shard; 2 nodes: 2 shards, 1 replica; 512 MiB heap per node. "
            "`totals ≠` counts queries whose total differs from the embedded index's.", "",
            *table(["step", "backend", "build s", "p50 ms", "p95 ms", "errors", "totals ≠", "req/s",
                    "p50 ms under load", "java RSS MiB (per node)", "searchapp workers RSS MiB"], rows), ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", nargs="+", choices=list(growth.STEPS), default=["10k", "105k"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    lines = run(args.steps, args.quick)
    print("\n".join(lines))
    write_section("part-opensearch", lines)


if __name__ == "__main__":
    main()
