"""Ranking experiments for whoever tunes the service's ranking: where it loses to plain BM25 and what helps.

Not part of `python -m bench`: a prototype that scores alternatives on the judged collections
without changing the service. Two kinds of rows:

- the service itself, with the question sent differently: as typed (the benchmark's run),
  as-you-type (`typing=True`, the API's default), and as plain words (lower-cased, every
  character of the query syntax - hyphen, parentheses, ?, *, quotes - made a space);
- an in-memory model of the service's ranking: its paragraphs (its own reader and splitter)
  or whole articles, its analyser, Whoosh's BM25F as the service computes it (idf
  log(N/(df+1))+1, B 0.75, K1 1.2, per field, summed; title term weights doubled as the
  schema's field_boost=2 does), each article at its best paragraph, and the words combined
  as the service does (paragraphs with every word first, then the others: "AND tier") or
  as an OR, optionally times a coordination factor: the share of the query's words matched
  (by count, or by idf mass) to the power alpha.

Alpha is chosen on the "tune" half (odd query ids) and the "test" half reported beside it.

    .venv/bin/python -m bench.ranking_experiments [--collections cranfield time]
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .common import paragraphs, table
from .relevance import (
    COLLECTIONS,
    Collection,
    Ranking,
    bm25f_run,
    by_half,
    index_collection,
    load_collection,
    per_query,
    service_run,
    write_jsonl,
)
from .relevance_metrics import first_hit_per_article
from .service import analysed

B, K1 = 0.75, 1.2
ALPHAS = (0.25, 0.5, 1.0, 2.0)
_SYNTAX = re.compile(r"""[-()?*"':]""")


@dataclass(frozen=True)
class Unit:
    """A scored unit (a paragraph or a whole article): its article, and each field's term weights."""

    article: str
    fields: dict[str, collections.Counter]


class Model:
    """BM25F per field, summed, over `units`, the way the service's engine scores (Whoosh's idf)."""

    def __init__(self, units: Sequence[Unit], idf: str = "whoosh"):
        self.units = units
        self.idf_kind = idf
        self.postings: dict[tuple[str, str], list[tuple[int, float]]] = collections.defaultdict(list)
        self.lengths = {name: [0] * len(units) for name in ("title", "text")}
        for number, unit in enumerate(units):
            for name, counts in unit.fields.items():
                self.lengths[name][number] = sum(counts.values())
                for term, weight in counts.items():
                    self.postings[(name, term)].append((number, weight))
        self.average = {name: (sum(lengths) / len(units)) or 1 for name, lengths in self.lengths.items()}
        self._scores: dict[tuple[str, float], dict[int, float]] = {}

    def idf(self, name: str, term: str) -> float:
        """Whoosh's idf (log(N/(df+1))+1: at least about 1, however common the word) or Lucene's
        (log(1+(N-df+0.5)/(df+0.5)): near 0 for a word in most documents)."""
        n, df = len(self.units), len(self.postings.get((name, term), ()))
        if self.idf_kind == "lucene":
            return math.log(1 + (n - df + 0.5) / (df + 0.5))
        return math.log(n / (df + 1)) + 1

    def term_scores(self, term: str, title_boost: float) -> dict[int, float]:
        """Each unit's score for one query term over title and text (title weights times `title_boost`)."""
        if (term, title_boost) in self._scores:
            return self._scores[(term, title_boost)]
        found: dict[int, float] = collections.defaultdict(float)
        self._scores[(term, title_boost)] = found
        for name, boost in (("title", title_boost), ("text", 1.0)):
            idf, average, lengths = self.idf(name, term), self.average[name], self.lengths[name]
            for unit, weight in self.postings.get((name, term), ()):
                weight *= boost
                found[unit] += idf * weight * (K1 + 1) / (weight + K1 * (1 - B + B * lengths[unit] / average))
        return found

    def rank(self, terms: Sequence[str], combine: Callable[[float, float, float], tuple], title_boost: float,
             depth: int = 100) -> list[str]:
        """Articles by the best of their units; `combine(score, words matched, idf share matched)` gives the
        unit's sort key."""
        distinct = list(dict.fromkeys(terms))
        weights = {t: self.idf("text", t) for t in distinct}
        total = sum(weights.values()) or 1.0
        score: dict[int, float] = collections.defaultdict(float)
        matched: dict[int, list[str]] = collections.defaultdict(list)
        for term in distinct:
            for unit, value in self.term_scores(term, title_boost).items():
                score[unit] += value  # the parser drops repeated words
                matched[unit].append(term)
        keys = {unit: combine(s, len(matched[unit]) / len(distinct), sum(weights[t] for t in matched[unit]) / total)
                for unit, s in score.items()}
        ordered = sorted(keys, key=lambda unit: (keys[unit], -unit), reverse=True)
        return first_hit_per_article(self.units[unit].article for unit in ordered)[:depth]


def units_of(collection: Collection, folder: Path, whole_articles: bool) -> list[Unit]:
    """The service's paragraph documents of the collection (or its articles whole), analysed as it does."""
    found: dict[str, Unit] = {}
    for paragraph in paragraphs([write_jsonl(collection, folder)]):
        key = paragraph.article_id if whole_articles else paragraph.id
        title = collections.Counter(analysed(paragraph.title))
        unit = found.setdefault(key, Unit(paragraph.article_id, {"title": title, "text": collections.Counter()}))
        unit.fields["text"].update(analysed(paragraph.text))
    return list(found.values())


COMBINATIONS: dict[str, Callable[[float], Callable[[float, float, float], tuple]]] = {
    "AND tier, then OR": lambda a: lambda s, share, idf_share: (share == 1.0, s),
    "OR": lambda a: lambda s, share, idf_share: (s,),
    "OR x (share of words matched)^alpha": lambda a: lambda s, share, idf_share: (s * share ** a,),
    "OR x (share of idf matched)^alpha": lambda a: lambda s, share, idf_share: (s * idf_share ** a,),
}
# (units, title boost, idf, combination): the service's model, then one change at a time, then combinations
CONFIGS = [
    ("paragraphs", 2.0, "whoosh", "AND tier, then OR"),
    ("paragraphs", 2.0, "whoosh", "OR"),
    ("paragraphs", 1.0, "whoosh", "AND tier, then OR"),
    ("paragraphs", 2.0, "lucene", "AND tier, then OR"),
    ("articles", 2.0, "whoosh", "AND tier, then OR"),
    ("paragraphs", 2.0, "whoosh", "OR x (share of words matched)^alpha"),
    ("paragraphs", 2.0, "whoosh", "OR x (share of idf matched)^alpha"),
    ("paragraphs", 1.0, "lucene", "AND tier, then OR"),
    ("paragraphs", 1.0, "whoosh", "OR x (share of idf matched)^alpha"),
    ("paragraphs", 1.0, "lucene", "OR x (share of idf matched)^alpha"),
    ("articles", 1.0, "lucene", "OR x (share of idf matched)^alpha"),
]


def model_runs(collection: Collection, folder: Path) -> dict[str, dict[float | None, Ranking]]:
    """label -> alpha (None: none) -> ranking, for every model configuration."""
    units = {name: units_of(collection, folder, name == "articles") for name in ("paragraphs", "articles")}
    models = {(name, idf): Model(units[name], idf) for name in units for idf in ("whoosh", "lucene")}
    runs: dict[str, dict[float | None, Ranking]] = {}
    for unit_name, boost, idf, combination in CONFIGS:
        model, make = models[(unit_name, idf)], COMBINATIONS[combination]
        label = f"model: {unit_name}, title x{boost:g}, {idf} idf, {combination}"
        runs[label] = {a: {q["id"]: model.rank(analysed(q["text"]), make(a or 0), boost) for q in collection.queries}
                       for a in (ALPHAS if "alpha" in combination else (None,))}
    return runs


def plain_words(text: str) -> str:
    return " ".join(_SYNTAX.sub(" ", text).lower().split())


def service_variants(collection: Collection, index: Path) -> dict[str, Ranking]:
    as_typed = service_run(collection, index)[0]
    typing = service_run(collection, index, typing=True)[0]
    plain = Collection(collection.name, collection.docs,
                       [{**q, "text": plain_words(q["text"])} for q in collection.queries], collection.qrels)
    return {"service: as typed, submitted (the benchmark)": as_typed, "service: as-you-type (API default)": typing,
            "service: plain words (syntax characters made spaces, lower case)": service_run(plain, index)[0]}


def evaluate(collection: Collection) -> list[list[object]]:
    """Rows: label, alpha (chosen on tune), nDCG@10 tune / test / all, MAP@100 all."""
    with tempfile.TemporaryDirectory(prefix="searchapp-ranking-") as folder:
        index = index_collection(collection, Path(folder))
        runs: dict[str, dict[float | None, Ranking]] = {
            "reference: Whoosh BM25F title+text articles, OR (Porter)": {None: bm25f_run(collection)},
            **{label: {None: ranking} for label, ranking in service_variants(collection, index).items()},
            **model_runs(collection, Path(folder)),
        }
    rows = []
    for label, by_alpha in runs.items():
        halves = {a: by_half(per_query(collection, ranking)) for a, ranking in by_alpha.items()}
        alpha = max(halves, key=lambda a: halves[a]["tune"]["nDCG@10"])
        chosen = halves[alpha]
        rows.append([collection.name, label, "" if alpha is None else f"{alpha:g}",
                     *(f"{chosen[h]['nDCG@10']:.3f}" for h in ("tune", "test", "all")),
                     f"{chosen['all']['MAP@100']:.3f}"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collections", nargs="+", choices=COLLECTIONS, default=list(COLLECTIONS))
    args = parser.parse_args(argv)
    rows = [row for name in args.collections for row in evaluate(load_collection(name))]
    print("\n".join(table(["collection", "run", "alpha (best on tune)", "nDCG@10 tune", "nDCG@10 test",
                           "nDCG@10 all", "MAP@100 all"], rows)))


if __name__ == "__main__":
    main()
