"""Cold start: seconds from launching `searchapp serve` to its first successful /api/search answer.

The clock starts just before the process is spawned; the client then retries a
search (a fresh connection each try, every 20 ms) until one answers 200 with
JSON. The OS page cache is not dropped (the index files are usually cached), so
this is a process cold start, not a disk cold start. The naive app (index
prebuilt) is timed the same way for comparison.

    .venv/bin/python -m bench.cold_start --corpus reuters --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Sequence

from .common import (
    DATASETS,
    HOST,
    REPO,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Client,
    Dataset,
    Query,
    Server,
    free_port,
    prepare,
    search_path,
    stop_server,
    table,
    write_section,
)

TIMEOUT = 300.0
PROBE = Query("probe", "market")


def launch(target: str, dataset: Dataset, port: int) -> subprocess.Popen:
    if target == "searchapp":
        argv = [str(VENV_BIN / "searchapp"), "serve", "--host", HOST, "--port", str(port),
                "--index", str(dataset.searchapp_index)]
    else:
        argv = [str(VENV_BIN / "python"), "-m", "bench.naive_app", "serve", "--port", str(port),
                "--index", str(dataset.naive_index), *map(str, dataset.sources)]
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with open(SCRATCH / f"cold-{target}-{port}.log", "wb") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=RUN_DIR if target == "searchapp" else REPO)


def first_answer(target: str, dataset: Dataset) -> float:
    """Seconds from spawn to the first 200 JSON answer of a search."""
    port = free_port()
    started = time.perf_counter()
    process = launch(target, dataset, port)
    server = Server(target, port, process, SCRATCH / f"cold-{target}-{port}.log")
    try:
        while time.perf_counter() - started < TIMEOUT:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited; see {server.log_path}")
            client = Client(port, timeout=TIMEOUT)
            status, body, _ = client.get(search_path(target, PROBE))
            client.close()
            if status == 200 and "total" in json.loads(body):
                return time.perf_counter() - started
            time.sleep(0.02)
        raise RuntimeError(f"{target} gave no answer within {TIMEOUT:.0f} s")
    finally:
        stop_server(server)


def run(corpora: Sequence[str], targets: Sequence[str], repeat: int) -> list[str]:
    rows = []
    for name in corpora:
        dataset = DATASETS[name]
        prepare(dataset, targets)
        times: dict[str, list[float]] = {t: [] for t in targets}
        for _ in range(repeat):
            for target in targets:
                times[target].append(first_answer(target, dataset))
        for target, values in times.items():
            rows.append([name, target, f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                         f"{max(values):.2f}", repeat])
    return ["## Cold start (spawn → first /api/search 200, page cache warm)", "",
            *table(["corpus", "server", "median s", "min s", "max s", "runs"], rows), ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), action="append", help="repeatable [default: all]")
    parser.add_argument("--targets", nargs="+", choices=["searchapp", "naive"], default=["searchapp", "naive"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    lines = run(args.corpus or ["bbc", "reuters"], args.targets, args.repeat)
    print("\n".join(lines))
    print(f"saved {write_section('cold_start', lines)}")


if __name__ == "__main__":
    main()
