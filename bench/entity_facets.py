"""Facet values the entity extractor gives a whole corpus, without building an index.

    python bench/entity_facets.py [--top 15] [--corpus bbc reuters time]

Runs the extractor over every article (as `index build` splits them) and counts,
per facet, the paragraphs that carry each value; then prints the counts of the
variants issue #14 names (Reagan, U.S., Labour, OPEC, NOTE ...) and the top values.
With code that has archive-wide canonical names (`searchapp.entities.EntityNames`),
the values are canonical, as the index would store them.
SEARCHAPP_BENCH_CODE=/path measures the searchapp code at that path.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("SEARCHAPP_BENCH_CODE") or str(ROOT))

from searchapp import entities as entities_module  # noqa: E402
from searchapp.articles import ReadReport, read_articles  # noqa: E402

SHARED = ROOT.parent / "shared"
CORPORA = {
    "bbc": SHARED / "corpus" / "bbc" / "articles.jsonl",
    "reuters": SHARED / "corpus" / "reuters21578" / "articles.jsonl",
    "time": SHARED / "eval" / "time" / "docs.jsonl",
}
FACETS = ("people", "places", "organisations")
VARIANTS = {
    "people": ["Reagan", "Ronald Reagan", "President Reagan", "Goldsmith", "Peter Goldsmith", "Lord Goldsmith",
               "Blair", "Tony Blair", "Baker", "James Baker", "Howard Baker"],
    "places": ["U.S.", "US", "United States", "USA", "America", "UK", "Britain", "United Kingdom"],
    "organisations": ["Labour", "Labour Party", "Liberal Democrats", "Liberal Democrat", "Lib Dems",
                      "OPEC", "Organization of Petroleum Exporting Countries", "NOTE", "REUTER", "Reuters",
                      "Fed", "Federal Reserve", "Tories", "Conservatives", "Conservative Party"],
}


def paragraph_entities(corpora: list[str]) -> list[object]:
    """Every paragraph's Entities, article after article, canonical where the code can tell."""
    canonical = getattr(entities_module, "EntityNames", None)
    names = canonical() if canonical else None
    found: list[object] = []
    for article in read_articles([CORPORA[c] for c in corpora], ReadReport()):
        texts = [b.text for b in article.blocks if b.role != "heading"]
        result = entities_module.extract_article_entities(article.title, texts)
        if names is not None:
            names.add_article(result, article.source)
        found.extend((e, article.source) for e in result)
    if names is None:
        return [e for e, _ in found]
    canon = names.canonicalizer(entities_module.load_aliases())
    return [canon.apply(e, source) for e, source in found]


def facet_counts(found: list[object]) -> dict[str, Counter[str]]:
    counts = {f: Counter() for f in FACETS}
    for entities in found:
        for f in FACETS:
            counts[f].update(getattr(entities, f))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="+", default=["bbc", "reuters"], choices=sorted(CORPORA))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    found = paragraph_entities(args.corpus)
    seconds = time.perf_counter() - start
    counts = facet_counts(found)
    print(f"{' + '.join(args.corpus)}: {len(found)} paragraphs, {seconds:.1f} s; distinct values: "
          + ", ".join(f"{f} {len(counts[f])}" for f in FACETS) + "\n")
    for f in FACETS:
        print(f"{f}: " + ", ".join(f"{v} {counts[f][v]}" for v in VARIANTS[f]))
    for f in FACETS:
        print(f"\ntop {f}: " + ", ".join(f"{v} {n}" for v, n in counts[f].most_common(args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
