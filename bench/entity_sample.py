"""Draw the "fresh" held-out paragraphs for the entity labels, reproducibly.

    python bench/entity_sample.py template > tests/entity_labels_fresh.jsonl   # empty labels
    python bench/entity_sample.py show                                         # texts to label

Draws PER_CORPUS paragraphs at random (seed SEED) from each of BBC and Reuters,
one paragraph per article, from articles not already in tests/entity_labels.jsonl.
Rows keep only the article id and the paragraph's position (1-based, as the
index numbers them), because the corpus text may not be committed. ``show``
prints each drawn paragraph with its whole article around it, since a short
form is labelled with the full form the article gives.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CORPORA = {"bbc": "bbc/articles.jsonl", "reuters": "reuters21578/articles.jsonl"}
OLD_LABELS = ROOT / "tests" / "entity_labels.jsonl"
SEED = 14
PER_CORPUS = 50
TYPES = ("people", "places", "organisations")


def _articles(name: str, corpus: Path) -> list[dict]:
    with open(corpus / CORPORA[name], encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _labelled_articles() -> set[str]:
    rows = (json.loads(line) for line in OLD_LABELS.read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["article_id"] for row in rows if "article_id" in row}


def draw(corpus: Path = CORPUS, seed: int = SEED, per_corpus: int = PER_CORPUS) -> list[tuple[dict, int]]:
    """(article, position) pairs: per corpus, `per_corpus` articles drawn without replacement,
    then one paragraph of each, all from one seeded generator."""
    rng = random.Random(seed)
    taken = _labelled_articles()
    drawn: list[tuple[dict, int]] = []
    for name in CORPORA:
        articles = [a for a in _articles(name, corpus) if a["id"] not in taken]
        for article in rng.sample(articles, per_corpus):
            paragraphs = article["text"].split("\n\n")
            drawn.append((article, rng.randrange(len(paragraphs)) + 1))
    return drawn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("template", "show"))
    args = parser.parse_args(argv)
    for n, (article, position) in enumerate(draw(), 1):
        if args.mode == "template":
            row = {"article_id": article["id"], "position": position, "split": "fresh"}
            print(json.dumps(row | {t: [] for t in TYPES}, ensure_ascii=False))
            continue
        print(f"=== {n}. {article['id']} position {position}: {article['title']}")
        for i, text in enumerate(article["text"].split("\n\n"), 1):
            print(f"{'>>' if i == position else '  '} {i}: {text}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
