"""Where searchapp's search time goes: cProfile of `Search.search` in-process over the query mix.

No HTTP: requests are built with `make_request` as the web layer does (typing on,
result cache off), after a warm-up pass over the warm-up queries. Prints the time
per query kind (unprofiled), the share of each stage (cumulative time of the
functions that make it up) and the costliest functions by own time.

    .venv/bin/python -m bench.profile_search --corpus reuters
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from searchapp.backends.embedded import EmbeddedBackend
from searchapp.search import make_request

from .common import DATASETS, Query, load_queries, ms, percentile, prepare, table, write_section

# stage -> (file name ending, function name); cumulative times, so nested stages overlap
STAGES = {
    "whole search (Search._search)": ("search/__init__.py", "_search"),
    "match: parse + every matching doc (_match)": ("search/__init__.py", "_match"),
    "  parse_query (+ prefix expansion)": ("search/query.py", "parse_query"),
    "  evaluate (scored matches on arrays, strict and relaxed)": ("search/__init__.py", "_evaluate"),
    "    term postings read (first use of a word)": ("search/matching.py", "_read_term"),
    "  close_words (spelling)": ("search/query.py", "close_words"),
    "facet counts (count_facets)": ("search/facets.py", "count_facets"),
    "article titles for the article facet": ("search/__init__.py", "get"),
    "hits: top-k + highlights (_hits)": ("search/__init__.py", "_hits"),
    "  top-k order (_top)": ("search/__init__.py", "_top"),
    "  per-hit fields + highlighting (_hit)": ("search/__init__.py", "_hit"),
    "    fragments of long paragraphs (snippet)": ("search/highlighting.py", "snippet"),
    "    title and short-paragraph marking (mark)": ("search/highlighting.py", "mark"),
}


def run_queries(search: EmbeddedBackend, queries: Sequence[Query]) -> dict[str, list[float]]:
    """Seconds per query, by kind."""
    times: dict[str, list[float]] = defaultdict(list)
    for query in queries:
        request = make_request(query.q, {k: [v] for k, v in query.filters.items()})
        started = time.perf_counter()
        search.search(request)
        times[query.kind].append(time.perf_counter() - started)
    return times


def stage_times(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds per stage, in the order of STAGES."""
    found = dict.fromkeys(STAGES, 0.0)
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():
        for stage, (suffix, name) in STAGES.items():
            if function == name and filename.endswith(suffix):
                found[stage] += cumulative
    return found


def top_functions(stats: pstats.Stats, count: int) -> list[list[object]]:
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:count]
    return [[f"{Path(filename).parent.name}/{Path(filename).name}:{line} {function}", calls, ms(own), ms(cumulative)]
            for (filename, line, function), (_, calls, own, cumulative, _) in rows]


def run(corpus: str, top: int) -> list[str]:
    dataset = DATASETS[corpus]
    prepare(dataset, ["searchapp"])
    search = EmbeddedBackend(dataset.searchapp_index, cache_size=0)
    queries = load_queries(dataset.queries)
    run_queries(search, load_queries(dataset.queries, "warmup"))
    times = run_queries(search, queries)
    profiler = cProfile.Profile()
    profiler.enable()
    run_queries(search, queries)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    every = [t for values in times.values() for t in values]
    lines = [f"## Profile of Search.search in-process ({corpus}, {len(queries)} queries, cache off)", "",
             f"Unprofiled: p50 {ms(percentile(every, 50))} ms, p95 {ms(percentile(every, 95))} ms, "
             f"mean {ms(statistics.mean(every))} ms per query.", ""]
    lines += table(["kind", "n", "p50 ms", "max ms", "share of all time"], [
        [kind, len(values), ms(percentile(values, 50)), ms(max(values)), f"{sum(values) / sum(every):.0%}"]
        for kind, values in sorted(times.items(), key=lambda item: -sum(item[1]))])
    lines += ["", f"Profiled total {total:.2f} s; stages by cumulative time (nested rows are parts of the row above):",
              ""]
    lines += table(["stage", "seconds", "share"], [
        [stage, f"{seconds:.2f}", f"{seconds / total:.0%}"] for stage, seconds in stage_times(stats).items()])
    lines += ["", f"Top {top} functions by own time:", ""]
    lines += table(["function", "calls", "own ms", "cumulative ms"], top_functions(stats, top))
    return lines + [""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), default="reuters")
    parser.add_argument("--top", type=int, default=20, help="functions to list by own time")
    args = parser.parse_args(argv)
    lines = run(args.corpus, args.top)
    print("\n".join(lines))
    print(f"saved {write_section('profile', lines)}")


if __name__ == "__main__":
    main()
