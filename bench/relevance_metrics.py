"""Ranking metrics and typo edits for the relevance benchmark (standard library only).

Metrics follow the eval collections' reference script (../shared/eval/*/reference_baseline.py):
nDCG with linear gain (the grade) and a log2 discount, the ideal taken from the judgements;
AP divided by the number of judged-relevant documents; P@k; reciprocal rank of the first
relevant hit within k. A grade of 0 or less is not relevant.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence

Judgements = Mapping[str, int]  # document id -> grade
EDITS = ("delete", "swap", "substitute", "insert")
MIN_TYPO_WORD = 5
_LETTERS = re.compile(r"[A-Za-z]+")


def dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


def ndcg_at(ranked: Sequence[str], judged: Judgements, k: int = 10) -> float:
    ideal = dcg(sorted((g for g in judged.values() if g > 0), reverse=True)[:k])
    return dcg(max(judged.get(doc, 0), 0) for doc in ranked[:k]) / ideal if ideal else 0.0


def average_precision(ranked: Sequence[str], judged: Judgements) -> float:
    """AP over the whole of `ranked` (cut it to the depth wanted), over all judged-relevant documents."""
    relevant = sum(1 for g in judged.values() if g > 0)
    found, total = 0, 0.0
    for rank, doc in enumerate(ranked, 1):
        if judged.get(doc, 0) > 0:
            found += 1
            total += found / rank
    return total / relevant if relevant else 0.0


def precision_at(ranked: Sequence[str], judged: Judgements, k: int = 10) -> float:
    return sum(1 for doc in ranked[:k] if judged.get(doc, 0) > 0) / k


def reciprocal_rank_at(ranked: Sequence[str], judged: Judgements, k: int = 10) -> float:
    return next((1 / rank for rank, doc in enumerate(ranked[:k], 1) if judged.get(doc, 0) > 0), 0.0)


def scores(ranked: Sequence[str], judged: Judgements, depth: int) -> dict[str, float]:
    """The four figures of one query: nDCG@10, MAP (AP over the first `depth`), P@10, MRR@10."""
    return {"nDCG@10": ndcg_at(ranked, judged), f"MAP@{depth}": average_precision(ranked[:depth], judged),
            "P@10": precision_at(ranked, judged), "MRR@10": reciprocal_rank_at(ranked, judged)}


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def first_hit_per_article(article_ids: Iterable[str]) -> list[str]:
    """Each article once, at the rank of its first (best) paragraph."""
    return list(dict.fromkeys(article_ids))


def overlap_at(found: Sequence[str], expected: Sequence[str], k: int = 10) -> float:
    """Share of `expected`'s first k that are among `found`'s first k (1.0 when `expected` is empty)."""
    wanted = set(expected[:k])
    return len(wanted & set(found[:k])) / len(wanted) if wanted else 1.0


def normalised(query: str) -> str:
    """A query as compared with a "Did you mean": lower-cased, whitespace runs folded."""
    return " ".join(query.lower().split())


def one_edit(word: str, rng: random.Random) -> tuple[str, str]:
    """`word` with one random edit (delete, swap, substitute, insert) after its first letter, and the edit's
    name. The result always differs from `word`: a swap takes two different letters, a substitution
    another letter. Needs at least 3 letters."""
    if len(word) < 3:
        raise ValueError(f"a typo needs a word of 3 letters or more, not {word!r}")
    lower = string.ascii_lowercase
    swaps = [i for i in range(1, len(word) - 1) if word[i] != word[i + 1]]
    edit = rng.choice([e for e in EDITS if e != "swap" or swaps])
    if edit == "delete":
        i = rng.randrange(1, len(word))
        return word[:i] + word[i + 1:], edit
    if edit == "swap":
        i = rng.choice(swaps)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:], edit
    if edit == "substitute":
        i = rng.randrange(1, len(word))
        return word[:i] + rng.choice([c for c in lower if c != word[i].lower()]) + word[i + 1:], edit
    i = rng.randrange(1, len(word) + 1)
    return word[:i] + rng.choice(lower) + word[i:], edit


def typo_target(query: str) -> re.Match | None:
    """The query's longest word of MIN_TYPO_WORD+ letters (the first of equals), or None."""
    words = [m for m in _LETTERS.finditer(query) if len(m.group()) >= MIN_TYPO_WORD]
    return max(words, key=lambda m: len(m.group()), default=None)


def with_typo(query: str, rng: random.Random) -> tuple[str, str] | None:
    """`query` with one edit in its longest word of 5+ letters, and the edit's name; None if it has none."""
    target = typo_target(query)
    if target is None:
        return None
    typo, edit = one_edit(target.group(), rng)
    return query[:target.start()] + typo + query[target.end():], edit
