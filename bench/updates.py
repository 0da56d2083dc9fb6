"""Updates under traffic: `searchapp index update` adds and replaces articles while clients search.

A BBC index is served (default workers) and 4 clients search BBC's query mix
(result cache on, as served). After a warm-up, each of 24 updates writes a JSON
Lines file of 3 new articles (Reuters articles under new ids) into a source
folder, rewrites the previous update's file so that one of its articles changes,
and runs `searchapp index update` on the folder. Each update has a word of its
own (`zqaaakx`, `zqbbbkx`, …: three letters apart, out of reach of spelling
correction) at the end of the first paragraph of its new articles, and the
changed article's first paragraph swaps the previous update's word for it.

After each update the API must find the update's word in 4 paragraphs (3 new
articles and the replaced one; 3 after the first update) and the previous
update's word in one paragraph fewer than before (the replaced article's old
version is gone). Reported: seconds from each update's end until both answers
are right, failed requests, and each gunicorn worker's RSS after the warm-up and
at the end (target: within 10 % over 20+ updates).

    .venv/bin/python -m bench.updates
    .venv/bin/python -m bench.updates --updates 26 --clients 4
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from .clients import MAX_SECONDS, Sample, drive, search_paths, spread, warm
from .common import (
    CORPORA,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    Client,
    Server,
    free_port,
    gunicorn_workers,
    ms,
    percentile,
    run_step,
    searchapp_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)
from .load import median_range, mib

NEW_PER_UPDATE = 3
MAX_UPDATES = 26  # one word per letter
WARM_SECONDS = 20.0
SETTLE_SECONDS = 5.0  # load after the last update, before the last RSS reading
VISIBLE_WITHIN = 15.0
SUMMARY = re.compile(r"added (\d+), replaced (\d+), deleted (\d+)")


def word(number: int) -> str:
    """Update `number`'s own word; any two differ in three letters."""
    return f"zq{chr(ord('a') + number) * 3}kx"


def expected_totals(number: int) -> tuple[int, int | None]:
    """Paragraphs holding update `number`'s word, and the previous update's word, once it is applied."""
    own = NEW_PER_UPDATE + (number >= 1)
    previous = NEW_PER_UPDATE + (number - 1 >= 1) - 1 if number >= 1 else None
    return own, previous


def with_word(record: dict, text_word: str) -> dict:
    paragraphs = record["text"].split("\n\n")
    paragraphs[0] = f"{paragraphs[0]} {text_word}"
    return {**record, "text": "\n\n".join(paragraphs)}


def base_records(count: int) -> list[dict]:
    """The first `count` Reuters articles with some text, under new ids (`update-NN-K`)."""
    records = []
    with open(CORPORA["reuters"], encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if len(record["text"].split("\n\n")[0]) >= 40:
                number, k = divmod(len(records), NEW_PER_UPDATE)
                records.append({**record, "id": f"update-{number:02d}-{k}"})
            if len(records) == count:
                return records
    raise RuntimeError(f"{CORPORA['reuters']}: fewer than {count} articles with text")


def write_update(folder: Path, number: int, records: list[dict]) -> None:
    """Update `number`'s file, and the previous file with its first article now holding this update's word."""
    own = records[number * NEW_PER_UPDATE:(number + 1) * NEW_PER_UPDATE]
    _write(folder / f"update-{number:02d}.jsonl", [with_word(r, word(number)) for r in own])
    if number >= 1:
        previous = records[(number - 1) * NEW_PER_UPDATE:number * NEW_PER_UPDATE]
        _write(folder / f"update-{number - 1:02d}.jsonl",
               [with_word(previous[0], word(number)), *(with_word(r, word(number - 1)) for r in previous[1:])])


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@dataclass
class Update:
    number: int
    seconds: float = 0.0
    status: int | None = None
    counts: tuple[int, ...] = ()  # added, replaced, deleted as the command reported them
    visible_after: float | None = None  # seconds from the command's end to the right answers
    seen: tuple[int | None, int | None] = (None, None)  # the last totals seen (own word, previous word)
    rss: list[float] = field(default_factory=list)

    @property
    def right(self) -> bool:
        expected_counts = (NEW_PER_UPDATE, int(self.number >= 1), 0)
        return self.status == 0 and self.counts == expected_counts and self.visible_after is not None


def total(client: Client, text: str) -> int | None:
    """The API's match count for `text`, None unless it answered for exactly that text (no correction)."""
    status, body, _ = client.get("/api/search?" + urlencode({"q": text, "per_page": "10"}))
    if status != 200:
        return None
    data = json.loads(body)
    return None if data["corrected"] else int(data["total"])


def apply_update(index: Path, folder: Path, number: int, records: list[dict], client: Client) -> Update:
    """Write and run update `number`, then wait until the API gives the expected totals."""
    update = Update(number)
    write_update(folder, number, records)
    started = time.perf_counter()
    completed = subprocess.run([str(VENV_BIN / "searchapp"), "index", "update", "--index", str(index), str(folder)],
                               capture_output=True, text=True, timeout=MAX_SECONDS, cwd=RUN_DIR)
    ended = time.perf_counter()
    update.seconds, update.status = ended - started, completed.returncode
    found = SUMMARY.search(completed.stdout)
    update.counts = tuple(int(x) for x in found.groups()) if found else ()
    expected = expected_totals(number)
    while time.perf_counter() - ended < VISIBLE_WITHIN:
        update.seen = (total(client, word(number)), total(client, word(number - 1)) if number else None)
        if update.seen == expected:
            update.visible_after = time.perf_counter() - ended
            break
        time.sleep(0.05)
    if not update.right:
        print(f"update {number}: exit {completed.returncode}, {completed.stdout.strip()[-200:]} "
              f"{completed.stderr.strip()[-300:]}; totals {update.seen}, expected {expected}", file=sys.stderr)
    return update


def memory_parts(server: Server, index: Path) -> list[tuple[float, float, int, int]]:
    """Per gunicorn worker: anonymous and file-backed resident MiB (the heap and arrays read into memory;
    the mapped index files), open files, and mappings of index files (both grow if old versions stay open)."""
    parts = []
    for pid in gunicorn_workers(server):
        proc = Path(f"/proc/{pid}")
        fields = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
        anon, files = (int(fields[name].split()[0]) / 1024 for name in ("RssAnon", "RssFile"))
        mapped = sum(str(index) in line for line in (proc / "maps").read_text().splitlines())
        parts.append((anon, files, len(list((proc / "fd").iterdir())), mapped))
    return parts


def run(clients: int, updates: int, workers: int | None, env: dict[str, str] | None = None) -> list[str]:
    if not 1 <= updates <= MAX_UPDATES:
        raise ValueError(f"--updates must be 1 to {MAX_UPDATES}")
    index, folder = SCRATCH / "updates-index", SCRATCH / "updates-source"
    for path in (index, folder):
        shutil.rmtree(path, ignore_errors=True)
    folder.mkdir(parents=True)
    run_step([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(index), str(CORPORA["bbc"])], RUN_DIR)
    records = base_records(updates * NEW_PER_UPDATE)
    paths = search_paths("bbc")
    server = searchapp_server(index, free_port(), workers, env=env)
    done: list[Update] = []
    memory: dict[str, list[float]] = {}
    parts: dict[str, list[tuple[float, float, int, int]]] = {}
    pids: dict[str, list[int]] = {}
    try:
        warm(server, paths)

        def during() -> None:
            time.sleep(WARM_SECONDS)
            memory["warm"], pids["warm"], parts["warm"] = workers_rss_mb(server), gunicorn_workers(server), \
                memory_parts(server, index)
            client = Client(server.port)
            for number in range(updates):
                done.append(apply_update(index, folder, number, records, client))
                done[-1].rss = workers_rss_mb(server)
            client.close()
            time.sleep(SETTLE_SECONDS)
            memory["end"], pids["end"], parts["end"] = workers_rss_mb(server), gunicorn_workers(server), \
                memory_parts(server, index)

        samples = drive(server.port, spread(paths, clients), 0.0, during)
    finally:
        stop_server(server)
    memory["fresh"], parts["fresh"] = fresh_server(index, paths, clients, workers, env)
    return report(samples, done, memory, pids, clients) + _parts(parts, env)


def fresh_server(index: Path, paths: list[str], clients: int, workers: int | None,
                 env: dict[str, str] | None) -> tuple[list[float], list[tuple[float, float, int, int]]]:
    """Worker RSS and memory parts of a new server on the updated index after the same warm-up: what the
    index's shape (more documents, a segment per update) costs, apart from having lived through the updates."""
    server = searchapp_server(index, free_port(), workers, env=env)
    try:
        warm(server, paths)
        drive(server.port, spread(paths, clients), WARM_SECONDS)
        return workers_rss_mb(server), memory_parts(server, index)
    finally:
        stop_server(server)


def report(samples: list[Sample], done: list[Update], memory: dict[str, list[float]], pids: dict[str, list[int]],
           clients: int) -> list[str]:
    growth = sum(memory["end"]) / sum(memory["warm"]) - 1
    per_worker = [f"{w:.0f} → {e:.0f} ({e / w - 1:+.1%})" for w, e in zip(memory["warm"], memory["end"])]
    visible = [u.visible_after for u in done if u.visible_after is not None]
    failed = sum(not s.ok for s in samples)
    right = sum(u.right for u in done)
    verdict = "PASS" if failed == 0 and right == len(done) and growth <= 0.10 else "FAIL"
    rows = [
        ["updates (3 new articles each, 1 replaced from the 2nd on)", len(done)],
        ["updates that said added 3 / replaced 1 / deleted 0, and whose words the API then found as expected",
         f"{right} of {len(done)}"],
        ["update command seconds under load, median (range)", median_range([u.seconds for u in done])],
        ["update end → API finds its articles, s, median / max", median_range(visible, 2)],
        ["requests during the run", len(samples)],
        ["failed requests", failed],
        ["latency p50 / p95 / p99 ms", " / ".join(ms(percentile([s.seconds for s in samples if s.ok], p))
                                                   for p in (50, 95, 99))],
        ["workers RSS after warm-up → end, MiB", f"{mib(memory['warm'])} → {mib(memory['end'])} ({growth:+.1%})"],
        ["per worker", "; ".join(per_worker) + ("" if pids["warm"] == pids["end"] else " (workers restarted!)")],
        ["a new server on the updated index, after the same warm-up, MiB",
         f"{mib(memory['fresh'])} ({sum(memory['fresh']) / sum(memory['warm']) - 1:+.1%} on the first server's "
         "warm-up)"],
    ]
    timeline = "; ".join(f"{u.number + 1}: {mib(u.rss)}" for u in done[::4])
    return [f"## Updates under load: {clients} clients, {len(done)} updates of a served BBC index", "",
            *table(["check", "result"], rows), "",
            f"{verdict} (every update found, zero failed requests, worker RSS growth ≤ 10 %).", "",
            f"RSS after update (number: MiB per worker): {timeline}", ""]


def _parts(parts: dict[str, list[tuple[float, float, int, int]]], env: dict[str, str] | None) -> list[str]:
    header = ["per worker", "anonymous MiB (heap, arrays)", "mapped index files MiB", "open files",
              "mappings of index files"]
    rows = [[f"{label} {number + 1}", *(f"{value:.0f}" for value in worker)]
            for label, key in (("after warm-up", "warm"), ("at the end", "end"), ("new server", "fresh"))
            for number, worker in enumerate(parts[key])]
    return [*table(header, rows), "", *([f"Server environment: {env}.", ""] if env else [])]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--updates", type=int, default=24, help=f"1 to {MAX_UPDATES}")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers [default: searchapp's]")
    parser.add_argument("--server-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="extra environment of the server (e.g. MALLOC_ARENA_MAX=2)")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.server_env)
    lines = run(args.clients, args.updates, args.workers, env or None)
    print("\n".join(lines))
    print(f"saved {write_section('updates', lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
