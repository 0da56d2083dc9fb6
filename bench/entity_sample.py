"""Draw the "fresh" held-out paragraphs for the entity labels, reproducibly.

    python bench/entity_sample.py template > tests/entity_labels_fresh.jsonl   # empty labels
    python bench/entity_sample.py show                                         # texts to label
    python bench/entity_sample.py --final template > tests/entity_labels_final.jsonl

Draws PER_CORPUS paragraphs at random (seed SEED) from each of BBC and Reuters,
one paragraph per article, from articles not already in tests/entity_labels.jsonl:
the "fresh" set, labelled before the rules of issue #14 were written. ``--final``
draws FINAL_PER_CORPUS more (seed FINAL_SEED), from articles in neither file: the
"final" set, labelled after those rules were frozen.
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
FRESH_LABELS = ROOT / "tests" / "entity_labels_fresh.jsonl"
SEED, PER_CORPUS = 14, 50
FINAL_SEED, FINAL_PER_CORPUS = 2025, 30
TYPES = ("people", "places", "organisations")


def _articles(name: str, corpus: Path) -> list[dict]:
    with open(corpus / CORPORA[name], encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _labelled_articles(files: tuple[Path, ...]) -> set[str]:
    rows = (json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["article_id"] for row in rows if "article_id" in row}


def draw(corpus: Path = CORPUS, seed: int = SEED, per_corpus: int = PER_CORPUS,
         exclude: tuple[Path, ...] = (OLD_LABELS,)) -> list[tuple[dict, int]]:
    """(article, position) pairs: per corpus, `per_corpus` articles drawn without replacement,
    then one paragraph of each, all from one seeded generator."""
    rng = random.Random(seed)
    taken = _labelled_articles(exclude)
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
    parser.add_argument("--final", action="store_true", help="draw the final set instead of the fresh one")
    args = parser.parse_args(argv)
    drawn = draw(seed=FINAL_SEED, per_corpus=FINAL_PER_CORPUS, exclude=(OLD_LABELS, FRESH_LABELS)) if args.final \
        else draw()
    for n, (article, position) in enumerate(drawn, 1):
        if args.mode == "template":
            row = {"article_id": article["id"], "position": position, "split": "final" if args.final else "fresh"}
            print(json.dumps(row | {t: [] for t in TYPES}, ensure_ascii=False))
            continue
        print(f"=== {n}. {article['id']} position {position}: {article['title']}")
        for i, text in enumerate(article["text"].split("\n\n"), 1):
            print(f"{'>>' if i == position else '  '} {i}: {text}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
