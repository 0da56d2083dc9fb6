"""Rebuilds under load: `searchapp index build` replaces the served index while clients search.

Two runs, both against one `searchapp serve` that is never restarted:

- other size: a BBC index is replaced by a Reuters one. An answer is judged by its
  `documents` count (which corpus) and its hit ids (all from that corpus).
- same size: two copies of BBC with the same ids and the same paragraphs, except
  that every paragraph of one ends in the word "alphaword" and of the other in
  "betaword"; builds switch between them (6+ times). Half the clients ask for
  "alphaword <query>", half for "betaword <query>"; every full hit must hold the word
  asked for. A reader of one version paired with postings or stored fields of the
  other would answer with paragraphs of the other copy (same document numbers,
  other words): a wrong-index answer. The result cache is off, so every request
  reaches the index.

Both report failed requests, inconsistent answers, and seconds from each switch
of the `current` link to the first answer from the new index and to the last
answer from the old one.

    .venv/bin/python -m bench.rebuild                      # both
    .venv/bin/python -m bench.rebuild --only same-size --switches 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from .clients import MAX_SECONDS, Plan, Sample, drive, search_paths, spread, warm
from .common import (
    CORPORA,
    RUN_DIR,
    SCRATCH,
    VENV_BIN,
    free_port,
    load_queries,
    ms,
    paragraphs,
    percentile,
    run_step,
    search_path,
    searchapp_server,
    stop_server,
    table,
    workers_rss_mb,
    write_section,
)
from .load import median_range, mib

REBUILD_AFTER = 5.0  # seconds of load before the first rebuild starts
AFTER_SWITCH = 15.0  # seconds of load at least after the (last) build ends
BETWEEN_SWITCHES = 3.0  # seconds of load between one same-size build's end and the next one's start
MARKERS = {"alpha": "alphaword", "beta": "betaword"}
# query kinds whose words all have to match (typos and prefixes end in corrections or partial hits)
MARKED_KINDS = {"common", "two_words", "phrase", "facet1", "facet2", "rare"}
MAX_WORDS = 2  # with the marker, 3: four plain words make a question, which any of its words may match


# --- judging answers ---------------------------------------------------------------------------------


def corpus_check(by_count: dict[int, str], body: bytes) -> tuple[str | None, bool]:
    """Which corpus answered (by the `documents` count), and whether every hit id is from that corpus."""
    try:
        data = json.loads(body)
        corpus = by_count.get(int(data["documents"]))
        ids = [hit["id"] for hit in data["hits"]]
    except (ValueError, KeyError, TypeError):
        return None, False
    return corpus, corpus is not None and all(i.startswith(corpus + "-") for i in ids)


def marker_check(marker: str, documents: int, body: bytes) -> tuple[str | None, bool]:
    """`marker` if the answer has full hits (None if not); consistent if each of them holds the marker
    and the answer counts `documents` paragraphs.

    Partial hits match only some words, and an answer corrected to other words is for those words:
    neither is judged (on the other copy, "alphaword x" ends in partial hits for "x")."""
    try:
        data = json.loads(body)
        full = [hit["text"] for hit in data["hits"] if not hit["partial"]]
        judged = not data["corrected"] or marker in (data["suggestion"] or "")
        counted = int(data["documents"]) == documents
    except (ValueError, KeyError, TypeError):
        return None, False
    if not (judged and full):
        return None, counted
    return marker, counted and all(marker in text for text in full)


# --- the two corpora of the same size -------------------------------------------------------------


def marked_corpus(source: Path, marker: str, target: Path) -> Path:
    """A copy of JSON Lines `source` with ` marker` at the end of every paragraph of every article's text."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            record["text"] = "\n\n".join(f"{p} {marker}" if p.strip() else p for p in record["text"].split("\n\n"))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return target


def paragraph_ids(source: Path) -> list[str]:
    return [p.id for p in paragraphs([source])]


def same_size_sources(directory: Path) -> tuple[dict[str, Path], int]:
    """The alpha and beta copies of BBC, and their paragraph count; raises unless both hold exactly BBC's
    paragraph ids."""
    sources = {name: marked_corpus(CORPORA["bbc"], marker, directory / f"bbc-{name}.jsonl")
               for name, marker in MARKERS.items()}
    expected = paragraph_ids(CORPORA["bbc"])
    for name, path in sources.items():
        if paragraph_ids(path) != expected:
            raise RuntimeError(f"{path}: the {name} copy does not split into BBC's paragraphs")
    return sources, len(expected)


def marked_plans(clients: int, documents: int) -> list[Plan]:
    """Clients alternate between the markers, each over BBC's query mix with its marker in front."""
    queries = [q for q in load_queries("bbc") + load_queries("bbc", "warmup")
               if q.kind in MARKED_KINDS and len(q.q.split()) <= MAX_WORDS]
    plans = []
    for number in range(clients):
        marker = list(MARKERS.values())[number % len(MARKERS)]
        paths = [search_path("searchapp", replace(q, q=f"{marker} {q.q}")) for q in queries]
        plans.append(Plan(paths, number * len(paths) // clients, partial(marker_check, marker, documents)))
    return plans


# --- running builds under load ------------------------------------------------------------------


def rebuild(index: Path, source: Path) -> dict[str, object]:
    """Run `searchapp index build` of `source`, watching the `current` link: when it switched, the exit status."""
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
    completed = subprocess.run([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(index), str(source)],
                               capture_output=True, text=True, timeout=MAX_SECONDS, cwd=RUN_DIR)
    ended = time.time()
    done.set()
    watcher.join()
    return {"started": started, "ended": ended, "switched": switched.get("at"), "status": completed.returncode,
            "output": completed.stdout.strip() or completed.stderr.strip()[-300:]}


def fresh_index(name: str, source: Path) -> Path:
    index = SCRATCH / name
    shutil.rmtree(index, ignore_errors=True)
    run_step([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(index), str(source)], RUN_DIR)
    return index


def _serve_and_drive(index: Path, plans: list[Plan], workers: int | None, builds, env: dict[str, str] | None = None):
    """Serve `index`, run the plans while `builds()` runs; the samples and the workers' RSS before and after."""
    server = searchapp_server(index, free_port(), workers, env=env)
    try:
        warm(server, [path for plan in plans for path in plan.paths[:5]])
        rss_before = workers_rss_mb(server)
        samples = drive(server.port, plans, 0.0, builds)
        rss_after = workers_rss_mb(server)
    finally:
        stop_server(server)
    return samples, rss_before, rss_after


def mode_other_size(clients: int, seconds: float, workers: int | None) -> list[str]:
    """Swap a BBC index for a Reuters one under load; check every answer is wholly old or new."""
    index = fresh_index("rebuild-index", CORPORA["bbc"])
    by_count = {len(paragraph_ids(CORPORA["bbc"])): "bbc", len(paragraph_ids(CORPORA["reuters"])): "reuters"}
    builds: list[dict[str, object]] = []

    def during() -> None:
        started = time.time()
        time.sleep(REBUILD_AFTER)
        builds.append(rebuild(index, CORPORA["reuters"]))
        time.sleep(max(AFTER_SWITCH, seconds - (time.time() - started)))

    plans = spread(search_paths("bbc") + search_paths("reuters"), clients, partial(corpus_check, by_count))
    samples, rss_before, rss_after = _serve_and_drive(index, plans, workers, during)
    switches = [(float(b["switched"]), "reuters") for b in builds if b["switched"]]
    rows = [*_common_rows(samples, builds, switches),
            ["answers by index", _served_counts(samples)],
            ["workers RSS before → after MiB", f"{mib(rss_before)} → {mib(rss_after)}"]]
    return [f"## Rebuild under load, other size: {clients} clients, {_span(samples):.0f} s, "
            "BBC index replaced by Reuters", "", *table(["check", "result"], rows), ""]


def mode_same_size(clients: int, switches: int, workers: int | None) -> list[str]:
    """Switch between the alpha and beta copies of BBC `switches` times under load; count wrong-index answers."""
    sources, documents = same_size_sources(SCRATCH / "same-size")
    index = fresh_index("same-size-index", sources["alpha"])
    builds: list[dict[str, object]] = []
    targets = [("beta", "alpha")[number % 2] for number in range(switches)]

    def during() -> None:
        time.sleep(REBUILD_AFTER)
        for target in targets:
            builds.append(rebuild(index, sources[target]))
            time.sleep(BETWEEN_SWITCHES)
        time.sleep(AFTER_SWITCH - BETWEEN_SWITCHES)

    samples, rss_before, rss_after = _serve_and_drive(index, marked_plans(clients, documents), workers, during,
                                                      env={"SEARCHAPP_CACHE_SIZE": "0"})
    moments = [(float(b["switched"]), MARKERS[t]) for b, t in zip(builds, targets) if b["switched"]]
    rows = [*_common_rows(samples, builds, moments),
            ["answers with full hits, by the word asked for", _served_counts(samples)],
            ["workers RSS before → after MiB", f"{mib(rss_before)} → {mib(rss_after)}"]]
    return [f"## Rebuild under load, same size: {clients} clients, {_span(samples):.0f} s, {len(builds)} builds "
            "switching between two BBC copies (same ids and paragraphs, other words), result cache off", "",
            *table(["check", "result"], rows), ""]


# --- the report -----------------------------------------------------------------------------------------


def _common_rows(samples: list[Sample], builds: list[dict[str, object]],
                 switches: list[tuple[float, str]]) -> list[list[object]]:
    firsts, lasts = _switch_delays(samples, switches)
    failed = sum(not s.ok for s in samples)
    wrong = sum(s.ok and not s.consistent for s in samples)
    around = [s.seconds for s in samples for at, _ in switches if at - 1 <= s.done and s.at <= at + 5]
    seconds = [float(b["ended"]) - float(b["started"]) for b in builds]
    return [
        ["requests", len(samples)],
        ["failed (non-200 or no answer)", failed],
        ["wrong-index answers (hits or counts from the other index)", wrong],
        ["builds (exit status: count)", ", ".join(f"{s}: {sum(b['status'] == s for b in builds)}"
                                                  for s in sorted({b["status"] for b in builds}, key=str))],
        ["build seconds under load, median (range)", median_range(seconds)],
        ["switch → first answer from the new index, s, median / max", _delays(firsts)],
        ["switch → last request answered by the old index (sent after the switch), s, median / max",
         _delays(lasts)],
        ["latency p50 / p95 / p99 ms", " / ".join(ms(percentile([s.seconds for s in samples if s.ok], p))
                                                   for p in (50, 95, 99))],
        ["slowest answer from 1 s before to 5 s after a switch",
         f"{ms(max(around))} ms ({len(around)} requests)" if around else "none"],
    ]


def _switch_delays(samples: list[Sample], switches: list[tuple[float, str]]) -> tuple[list[float], list[float]]:
    """Per switch: seconds to the first answer by the new index, and to the last request (sent after
    the switch) that the old index answered, within the time until the next switch."""
    firsts, lasts = [], []
    ends = [at for at, _ in switches[1:]] + [float("inf")]
    for (at, new), end in zip(switches, ends):
        window = [s for s in samples if s.served is not None and at < s.done < end]
        new_answers = [s.done - at for s in window if s.served == new]
        old_answers = [s.at - at for s in window if s.served != new and s.at > at]
        if new_answers:
            firsts.append(min(new_answers))
        lasts.append(max(old_answers, default=0.0))
    return firsts, lasts


def _delays(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f} ({len(values)} switches)" if values else "none"


def _served_counts(samples: list[Sample]) -> str:
    served = [s.served for s in samples if s.ok]
    return ", ".join(f"{name or 'not told'}: {served.count(name)}" for name in sorted(set(served), key=str))


def _span(samples: list[Sample]) -> float:
    return max(s.done for s in samples) - min(s.at for s in samples) if samples else 0.0


def run(clients: int, seconds: float, switches: int, workers: int | None, only: str | None = None) -> list[str]:
    lines = []
    if only in (None, "other-size"):
        lines += mode_other_size(clients, seconds, workers)
    if only in (None, "same-size"):
        lines += mode_same_size(clients, switches, workers)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="other size: load time, at least the build's")
    parser.add_argument("--switches", type=int, default=8, help="same size: builds switching the copies")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers [default: searchapp's]")
    parser.add_argument("--only", choices=["other-size", "same-size"], help="run one of the two [default: both]")
    args = parser.parse_args(argv)
    lines = run(args.clients, args.seconds, args.switches, args.workers, args.only)
    print("\n".join(lines))
    print(f"saved {write_section('rebuild', lines)}", file=sys.stderr)


if __name__ == "__main__":
    main()
