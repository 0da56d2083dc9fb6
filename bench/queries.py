"""Generate the fixed query mix of each corpus (fixed seed) into bench/queries.json.

Only single words, short phrases (2-3 words) and facet values are kept, never
passages. Each corpus gets a "warmup" list and a disjoint "measure" list, so
measured queries are never answered from searchapp's result cache.

    .venv/bin/python -m bench.queries            # both corpora
    .venv/bin/python -m bench.queries --corpus bbc
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from whoosh.analysis import STOP_WORDS

from .common import CORPORA, QUERIES_FILE, Query, month, paragraphs, topics

SEED = 20261125
WORD = re.compile(r"[A-Za-z]+")
# kind -> how many measured queries of it
MIX = {
    "common": 25, "rare": 25, "two_words": 25, "three_words": 20, "phrase": 20,
    "typo": 20, "prefix": 25, "facet1": 25, "facet2": 15,
}
WARMUP_SHARE = 0.2
# function words people rarely search for, on top of Whoosh's own stop list
FUNCTION_WORDS = frozenset("""
about above after again against all also although among another any around because been before being
below between both but could did does doing down during each either else even ever every few further
had has having her here hers herself him himself his how however into its itself just last least less
made make many more most much must near neither next nor now off once one only other others our ours
out over own per said same says she should since some still such than their theirs them themselves
then there these they those though three through thus too two under until upon very was were what
whether which while who whom whose why within without would yes yesterday you'll
""".split())


class Corpus:
    """Words, document frequencies and adjacent pairs of a corpus's paragraphs."""

    def __init__(self, source: Path):
        self.docs: list[tuple[list[str], list[str], str, str]] = []  # words, topics, month, kind
        self.df: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        for paragraph in paragraphs([source]):
            words = [w.lower() for w in WORD.findall(f"{paragraph.title} {paragraph.text}")]
            self.docs.append((words, topics(paragraph), month(paragraph), paragraph.kind))
            self.df.update(set(words))
            self.pairs.update(set(zip(words, words[1:], strict=False)))
        self.ranked = [w for w, _ in self.df.most_common() if self.content(w)]
        self.rare = sorted(w for w, n in self.df.items() if 2 <= n <= 5 and len(w) >= 5 and self.content(w))
        top_pairs = [(p, n) for p, n in self.pairs.most_common(3000) if all(map(self.content, p))]
        self.pairs_seen = {least: [p for p, n in top_pairs if n >= least] for least in (3, 5)}

    @staticmethod
    def content(word: str) -> bool:
        return len(word) >= 3 and word not in STOP_WORDS and word not in FUNCTION_WORDS


def _common(corpus: Corpus, rng: random.Random) -> str:
    return rng.choice(corpus.ranked[:150])


def _rare(corpus: Corpus, rng: random.Random) -> str:
    return rng.choice(corpus.rare)


def _two_words(corpus: Corpus, rng: random.Random) -> str:
    first, second = rng.choice(corpus.pairs_seen[5])
    return f"{second} {first}"  # reversed: two words, not the phrase


def _three_words(corpus: Corpus, rng: random.Random) -> str:
    while True:
        words, *_ = rng.choice(corpus.docs)
        choices = sorted({w for w in words if corpus.content(w) and corpus.df[w] >= 20})
        if len(choices) >= 3:
            return " ".join(rng.sample(choices, 3))


def _phrase(corpus: Corpus, rng: random.Random) -> str:
    first, second = rng.choice(corpus.pairs_seen[3])
    return f'"{first} {second}"'


def _typo(corpus: Corpus, rng: random.Random) -> str:
    while True:
        word = rng.choice([w for w in corpus.ranked[:2000] if len(w) >= 6])
        i = rng.randrange(1, len(word) - 2)
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2:] if rng.random() < 0.5 else word[:i] + word[i + 1:]
        if typo not in corpus.df:
            return typo


def _prefix(corpus: Corpus, rng: random.Random) -> str:
    word = rng.choice([w for w in corpus.ranked[:3000] if len(w) >= 7])
    return word[: rng.choice((3, 4, 5))]


def _faceted(corpus: Corpus, rng: random.Random, count: int) -> Query:
    """A word from a paragraph, with one or two of that paragraph's facet values (so it has hits)."""
    while True:
        words, paragraph_topics, paragraph_month, kind = rng.choice(corpus.docs)
        candidates = sorted({w for w in words if corpus.content(w) and corpus.df[w] >= 10})
        if not paragraph_topics or not candidates:
            continue
        filters = {"topic": rng.choice(paragraph_topics)}
        if count == 2:
            second = rng.choice([name for name, value in (("published", paragraph_month), ("kind", kind)) if value])
            filters[second] = paragraph_month if second == "published" else kind
        return Query(f"facet{count}", rng.choice(candidates), filters)


PICKERS: dict[str, Callable[[Corpus, random.Random], str]] = {
    "common": _common, "rare": _rare, "two_words": _two_words, "three_words": _three_words,
    "phrase": _phrase, "typo": _typo, "prefix": _prefix,
}


def _pick(corpus: Corpus, rng: random.Random, kind: str) -> Query:
    if kind.startswith("facet"):
        return _faceted(corpus, rng, int(kind[-1]))
    return Query(kind, PICKERS[kind](corpus, rng))


def generate(source: Path, seed: int = SEED) -> dict[str, list[dict]]:
    """Warm-up and measured queries for one corpus, all distinct, in a shuffled order."""
    corpus = Corpus(source)
    rng = random.Random(seed)
    seen: set[tuple] = set()
    chosen: dict[str, list[Query]] = {"warmup": [], "measure": []}
    for kind, count in MIX.items():
        for part, wanted in (("measure", count), ("warmup", max(2, round(count * WARMUP_SHARE)))):
            picked = 0
            while picked < wanted:
                query = _pick(corpus, rng, kind)
                key = (query.q, tuple(sorted(query.filters.items())))
                if key not in seen:
                    seen.add(key)
                    chosen[part].append(query)
                    picked += 1
    for queries in chosen.values():
        rng.shuffle(queries)
    return {part: [asdict(q) for q in queries] for part, queries in chosen.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append",
                        help="corpus to (re)generate; repeatable [default: all]")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    data = json.loads(QUERIES_FILE.read_text()) if QUERIES_FILE.exists() else {}
    for name in args.corpus or sorted(CORPORA):
        data[name] = generate(CORPORA[name], args.seed)
        counts = Counter(q["kind"] for q in data[name]["measure"])
        print(f"{name}: {len(data[name]['measure'])} measured, {len(data[name]['warmup'])} warm-up; {dict(counts)}")
    QUERIES_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {QUERIES_FILE}")


if __name__ == "__main__":
    main()
