"""Typo robustness on the BBC corpus: one typo in a query, how much of the clean top 10 survives.

The queries are the BBC query mix's plain word queries (bench/queries.json, warm-up and
measured lists; kinds common, rare, two_words, three_words) that have a word of 5+ letters
and find something. Each gets one random edit (seeded by the query) in its longest word of
5+ letters, never in the first letter. Both run through the service's own search as
submitted searches (top 10, `typing=False`); reported: the overlap of the typo'd query's top
10 paragraphs with the clean query's, how often the "Did you mean" (lower-cased, whitespace
folded) is the clean query, and the latency of the searches.

    .venv/bin/python -m bench.typo_robustness
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from contextlib import closing

from searchapp.backends import Backend
from searchapp.search import SearchPage, make_request

from .common import DATASETS, QUERIES_FILE, percentile, prepare, table
from .relevance_metrics import mean, normalised, overlap_at, typo_target, with_typo
from .service import open_search

SEED = 20261125
KINDS = {"common": "one word", "rare": "one word", "two_words": "2–3 words", "three_words": "2–3 words"}
TARGET_OVERLAP = 0.85
TARGET_RESTORED = 0.80


def typo_queries(corpus: str = "bbc") -> list[tuple[str, str]]:
    """(kind, query) of the corpus's plain word queries that have a word to misspell."""
    data = json.loads(QUERIES_FILE.read_text())[corpus]
    return [(item["kind"], item["q"]) for part in ("warmup", "measure") for item in data[part]
            if item["kind"] in KINDS and not item["filters"] and typo_target(item["q"])]


def submitted(search: Backend, q: str) -> tuple[SearchPage, float]:
    """The first page (10 hits) of `q` as a submitted search, and the seconds it took."""
    request = make_request(q=q, limits=search.limits).with_changes(typing=False)
    started = time.perf_counter()
    page = search.search(request)
    return page, time.perf_counter() - started


def typo_word(q: str, typo: str) -> str:
    """The misspelt word of `typo`, the typo'd `q`."""
    target = typo_target(q)
    return typo[target.start():target.end() + len(typo) - len(q)]


def one_query(search: Backend, kind: str, q: str) -> dict | None:
    """The typo'd query's figures against the clean one; None when the clean query finds nothing."""
    clean, clean_seconds = submitted(search, q)
    if not clean.hits:
        return None
    typo, edit = with_typo(q, random.Random(f"{SEED}:{q}"))
    page, seconds = submitted(search, typo)
    alone, _ = submitted(search, typo_word(q, typo))
    return {
        "kind": kind, "query": q, "typo": typo, "edit": edit,
        "typo_found_as_is": bool(alone.total) and not alone.corrected,
        "overlap@10": overlap_at([h.id for h in page.hits], [h.id for h in clean.hits]),
        "suggestion": page.suggestion, "restored": normalised(page.suggestion) == normalised(q),
        "corrected": page.corrected, "hits": page.total, "clean_ms": clean_seconds * 1000, "typo_ms": seconds * 1000,
    }


def measure(corpus: str = "bbc") -> dict:
    """Per-query results and their summary by group (one word, 2–3 words, all)."""
    dataset = DATASETS[corpus]
    prepare(dataset, ["searchapp"])
    queries = typo_queries(corpus)
    with closing(open_search(dataset.searchapp_index)) as search:
        for _, q in queries:  # warm-up: the terms' arrays read once
            submitted(search, q)
        rows = [one_query(search, kind, q) for kind, q in queries]
    found = [row for row in rows if row is not None]
    groups = {"one word": [r for r in found if KINDS[r["kind"]] == "one word"],
              "2–3 words": [r for r in found if KINDS[r["kind"]] == "2–3 words"], "all": found}
    return {"corpus": corpus, "seed": SEED, "skipped_no_hits": len(rows) - len(found),
            "summary": {name: summarise(group) for name, group in groups.items()}, "per_query": found}


def summarise(rows: Sequence[dict]) -> dict[str, float]:
    return {
        "queries": len(rows),
        "overlap@10": round(mean(r["overlap@10"] for r in rows), 4),
        "restored": round(mean(r["restored"] for r in rows), 4),
        "any suggestion": round(mean(bool(r["suggestion"]) for r in rows), 4),
        "corrected": round(mean(r["corrected"] for r in rows), 4),
        "typo found as is": round(mean(r["typo_found_as_is"] for r in rows), 4),
        "clean p50/p95 ms": [round(percentile([r["clean_ms"] for r in rows], p), 1) for p in (50, 95)],
        "typo p50/p95 ms": [round(percentile([r["typo_ms"] for r in rows], p), 1) for p in (50, 95)],
    }


def markdown(results: dict) -> list[str]:
    rows = [[group, s["queries"], f"**{s['overlap@10']:.0%}**", f"**{s['restored']:.0%}**",
             f"{s['any suggestion']:.0%}", f"{s['corrected']:.0%}", f"{s['typo found as is']:.0%}",
             " / ".join(map(str, s["typo p50/p95 ms"])), " / ".join(map(str, s["clean p50/p95 ms"]))]
            for group, s in results["summary"].items()]
    return [f"### Typos ({results['corpus'].upper()})", "",
            f"One seeded edit in the longest word of 5+ letters (never the first letter) of each plain word query of "
            f"the {results['corpus'].upper()} query mix; top 10 paragraphs of submitted searches. Targets: overlap@10 "
            f"≥ {TARGET_OVERLAP:.0%}, \"Did you mean\" gives back the clean query ≥ {TARGET_RESTORED:.0%}.", "",
            *table(["queries", "n", "overlap@10 with clean top 10", "\"Did you mean\" = clean query",
                    "any suggestion", "hits corrected", "typo'd word finds paragraphs as is", "typo'd p50 / p95 ms",
                    "clean p50 / p95 ms"], rows),
            "", f"{results['skipped_no_hits']} queries left out: the clean query finds nothing.", ""]


if __name__ == "__main__":
    print("\n".join(markdown(measure())))
