"""Matching and ranking: a query tree evaluated with array operations.

Whoosh ranks by walking its matcher tree one document at a time in Python;
that loop was three quarters of a search. Here each term's postings (from the
segment's term arrays, else from Whoosh's blocks) become two arrays, document
numbers and BM25F scores, cached per version of the index, and a query
combines them by union, intersection and difference, which numpy runs in C.
The same arrays give the set of every match (for facet counts) and the ranked
top hits, and as-you-type queries reuse the arrays of the words already typed.
Scores follow Whoosh's BM25F (its idf, B and K1).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.reading import TermNotFound

from .term_arrays import segment_arrays
from .whoosh_compat import field_lengths, posting_arrays

B, K1 = 0.75, 1.2  # Whoosh's BM25F defaults
TERM_CACHE_POSTINGS = 4_000_000  # postings kept in cached term arrays, summed (8 bytes each)
DENSE_FRACTION = 32  # set operations on more than 1/32 of the documents use dense masks, not sorting

DOCS = np.int32
SCORES = np.float32


class TimeUp(Exception):
    """The search passed its time limit; `found` is what matched a part of the query by then."""

    def __init__(self, found: Scored | None = None):
        super().__init__("time is up")
        self.found = found


class Deadline:
    """When a search must stop; `expired` says whether it had to."""

    def __init__(self, seconds: float):
        self._at = time.perf_counter() + seconds
        self.expired = False

    def check(self) -> None:
        if self.expired or time.perf_counter() > self._at:
            self.expired = True
            raise TimeUp


@dataclass(frozen=True)
class Scored:
    """Matching documents (sorted, unique) and their scores, index for index."""

    docs: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)

    def times(self, boost: float) -> Scored:
        return self if boost == 1.0 else Scored(self.docs, self.scores * SCORES(boost))

    def within(self, allowed: np.ndarray, size: int) -> Scored:
        """Only the documents also in `allowed` (sorted document numbers)."""
        keep = contains(allowed, self.docs, size)
        return Scored(self.docs[keep], self.scores[keep])

    def without(self, excluded: np.ndarray, size: int) -> Scored:
        keep = ~contains(excluded, self.docs, size)
        return Scored(self.docs[keep], self.scores[keep])


EMPTY_DOCS = np.empty(0, dtype=DOCS)
NOTHING = Scored(EMPTY_DOCS, np.empty(0, dtype=SCORES))


def _dense(count: int, size: int) -> bool:
    return count * DENSE_FRACTION > size


def contains(docs: np.ndarray, candidates: np.ndarray, size: int) -> np.ndarray:
    """For each candidate, whether it is in `docs` (both sorted)."""
    if not len(docs) or not len(candidates):
        return np.zeros(len(candidates), dtype=bool)
    if _dense(len(docs) + len(candidates), size):
        member = np.zeros(size, dtype=bool)
        member[docs] = True
        return member[candidates]
    at = np.searchsorted(docs, candidates)
    at[at == len(docs)] = 0
    return docs[at] == candidates


def intersect(docs: np.ndarray, others: list[np.ndarray], size: int) -> np.ndarray:
    """The documents in `docs` and in each of `others`, smallest first."""
    for other in sorted(others, key=len):
        docs = docs[contains(other, docs, size)]
    return docs


def union_docs(parts: list[np.ndarray], size: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else EMPTY_DOCS
    if _dense(sum(map(len, parts)), size):
        member = np.zeros(size, dtype=bool)
        for part in parts:
            member[part] = True
        return np.flatnonzero(member).astype(DOCS)
    return np.unique(np.concatenate(parts))


def _union(parts: list[Scored], size: int, best: bool) -> Scored:
    """Documents in any part; scores summed, or (`best`) the highest."""
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else NOTHING
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    if best:
        order = np.lexsort((-scores, docs))
        docs, scores = docs[order], scores[order]
        first = np.ones(len(docs), dtype=bool)
        first[1:] = docs[1:] != docs[:-1]
        return Scored(docs[first], scores[first])
    if _dense(len(docs), size):
        total = np.bincount(docs, weights=scores, minlength=size)
        found = union_docs([p.docs for p in parts], size)
        return Scored(found, total[found].astype(SCORES))
    found, inverse = np.unique(docs, return_inverse=True)
    return Scored(found.astype(DOCS), np.bincount(inverse, weights=scores).astype(SCORES))


def coordinated(parts: list[Scored], weights: np.ndarray, alpha: float, size: int) -> Scored:
    """Documents in any part, their scores summed and multiplied by the share of the parts'
    `weights` they are in, to the power `alpha` (a coordination factor)."""
    kept = [(part, weight) for part, weight in zip(parts, weights) if len(part)]
    if not kept or not weights.sum():
        return NOTHING
    docs = np.concatenate([part.docs for part, _ in kept])
    scores = np.concatenate([part.scores for part, _ in kept])
    matched = np.concatenate([np.full(len(part), weight, dtype=SCORES) for part, weight in kept])
    found, inverse = np.unique(docs, return_inverse=True)
    total = np.bincount(inverse, weights=scores)
    share = np.bincount(inverse, weights=matched) / float(weights.sum())
    return Scored(found.astype(DOCS), (total * share ** alpha).astype(SCORES))


def _intersection(parts: list[Scored], size: int) -> Scored:
    """Documents in every part, scores summed."""
    parts = sorted(parts, key=len)
    result = parts[0]
    for part in parts[1:]:
        if not len(result):
            return NOTHING
        keep = contains(part.docs, result.docs, size)
        docs = result.docs[keep]
        at = np.searchsorted(part.docs, docs)
        result = Scored(docs, result.scores[keep] + part.scores[at])
    return result


class Postings:
    """Scored term arrays and query evaluation for one version of the index (its `Snapshot`).

    Shared by every thread; what needs Whoosh asks the snapshot for the
    calling thread's own searcher of that same version.
    """

    def __init__(self, snapshot):
        # Not a reference cycle: a retired snapshot must go (files, memory maps) with its last request,
        # not when the cycle collector happens to run.
        self._snapshot = weakref.proxy(snapshot)
        reader = snapshot.searcher().reader()
        self.size = reader.doc_count_all()
        self._arrays = segment_arrays(reader, snapshot.generation)
        self._all = np.fromiter(reader.all_doc_ids(), dtype=DOCS)
        self._every = Scored(self._all, np.zeros(len(self._all), dtype=SCORES))  # what an empty query matches
        self._alive = None
        if len(self._all) < self.size:
            self._alive = np.zeros(self.size, dtype=bool)
            self._alive[self._all] = True
        self._lengths: dict[str, np.ndarray] = {}
        self._terms: OrderedDict[tuple[str, str], Scored] = OrderedDict()
        self._cached_postings = 0
        self._lock = threading.Lock()

    def everything(self) -> np.ndarray:
        """Every document not deleted."""
        return self._all

    def term(self, fieldname: str, text: str) -> Scored:
        key = (fieldname, text)
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        found = self._read_term(fieldname, text)
        with self._lock:
            if key not in self._terms and len(found) <= TERM_CACHE_POSTINGS // 4:
                self._terms[key] = found
                self._cached_postings += len(found)
                while self._cached_postings > TERM_CACHE_POSTINGS:
                    _, dropped = self._terms.popitem(last=False)
                    self._cached_postings -= len(dropped)
        return found

    def forget_terms(self) -> None:
        """Drop the cached terms (a newer version is opening; requests still here read them again)."""
        with self._lock:
            self._terms.clear()
            self._cached_postings = 0

    def term_docs(self, fieldname: str, text: str) -> np.ndarray:
        return self.term(fieldname, text).docs

    def _read_term(self, fieldname: str, text: str) -> Scored:
        searcher = self._snapshot.searcher()
        docs_parts, weight_parts = [], []
        term = searcher.schema[fieldname].to_bytes(text)
        for (segment, offset), arrays in zip(searcher.reader().leaf_readers(), self._arrays):
            if arrays is not None and arrays.holds(fieldname, term):
                docs, weights = arrays.postings(fieldname, term)
            else:
                try:
                    docs, weights = posting_arrays(segment, fieldname, term)
                except TermNotFound:
                    continue
            docs_parts.append(docs + DOCS(offset))
            weight_parts.append(weights)
        if not docs_parts:
            return NOTHING
        docs, weights = np.concatenate(docs_parts), np.concatenate(weight_parts)
        if self._alive is not None:
            keep = self._alive[docs]
            docs, weights = docs[keep], weights[keep]
        return Scored(docs, self._bm25f(fieldname, text, docs, weights))

    def _bm25f(self, fieldname: str, text: str, docs: np.ndarray,
               weights: np.ndarray) -> np.ndarray:
        searcher = self._snapshot.searcher()
        if not searcher.schema[fieldname].scorable:
            return weights
        idf = SCORES(searcher.idf(fieldname, text))
        average = SCORES(searcher.avg_field_length(fieldname) or 1)
        lengths = self._field_length_array(fieldname)[docs]
        norms = SCORES(K1) * (SCORES(1 - B) + SCORES(B) * lengths / average)
        return idf * (weights * SCORES(K1 + 1)) / (weights + norms)

    def _field_length_array(self, fieldname: str) -> np.ndarray:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = field_lengths(self._snapshot.searcher().reader(), fieldname)
        return lengths

    def docs(self, q: wq.Query, deadline: Deadline | None = None) -> np.ndarray:
        """The documents `q` matches (deleted ones left out)."""
        return self.evaluate(q, deadline).docs

    def evaluate(self, q: wq.Query, deadline: Deadline | None = None) -> Scored:
        """The documents `q` matches, with their scores as Whoosh's BM25F would sum them."""
        if deadline is not None:
            deadline.check()
        if q is wq.NullQuery:
            return NOTHING
        if isinstance(q, wq.Every):
            return self._every
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text).times(q.boost)
        children = list(q.children())
        if isinstance(q, wq.Or | wq.DisjunctionMax) and not getattr(q, "minmatch", 0):
            found = self._alternatives(children, deadline)
            return _union(found, self.size, best=isinstance(q, wq.DisjunctionMax)).times(q.boost)
        if isinstance(q, wq.And):
            return self._conjunction(children, deadline).times(q.boost)
        if isinstance(q, wq.AndNot):
            return self.evaluate(q.a, deadline).without(self.docs(q.b, deadline), self.size)
        if isinstance(q, wq.AndMaybe):
            required = self.evaluate(q.a, deadline)
            return _union([required, self.evaluate(q.b, deadline).within(required.docs, self.size)],
                          self.size, best=False)
        if isinstance(q, wq.Not):
            return self._every.without(
                self.docs(q.query, deadline), self.size)
        return self._by_whoosh(q, deadline)

    def _alternatives(self, children: list[wq.Query], deadline: Deadline | None) -> list[Scored]:
        """The matches of each alternative, as many as there was time for."""
        found = []
        for child in children:
            try:
                found.append(self.evaluate(child, deadline))
            except TimeUp:
                break
        return found

    def _conjunction(self, children: list[wq.Query], deadline: Deadline | None) -> Scored:
        excluded = [self.docs(c.query, deadline) for c in children if isinstance(c, wq.Not)]
        required = []
        for child in children:
            if isinstance(child, wq.Not):
                continue
            try:
                required.append(self.evaluate(child, deadline))
            except TimeUp as up:  # what matched some of the words so far
                found = [*required, *([up.found] if up.found is not None else [])]
                partial = _union(found, self.size, best=False)
                for docs in excluded:
                    partial = partial.without(docs, self.size)
                raise TimeUp(partial if len(partial) else None) from None
        result = _intersection(required, self.size) if required else self.evaluate(wq.Every())
        for docs in excluded:
            result = result.without(docs, self.size)
        return result

    def _by_whoosh(self, q: wq.Query, deadline: Deadline | None) -> Scored:
        """Phrases and other position-based queries, scored as the sum of their words' scores.

        A phrase is found in the term arrays' word positions; anything else (or
        a segment without arrays) is left to Whoosh."""
        docs = self._phrase_docs(q) if isinstance(q, wq.Phrase) else None
        if docs is None:
            docs = np.fromiter(self._snapshot.searcher().docs_for_query(q), dtype=DOCS)
            docs.sort()
        words = [wq.Term(fieldname, text) for fieldname, text in q.terms(phrases=True) if fieldname is not None]
        scored = _union([self.evaluate(word, deadline) for word in words], self.size, best=False)
        at = np.searchsorted(scored.docs, docs)
        at[at == len(scored.docs)] = 0
        scores = np.where(scored.docs[at] == docs, scored.scores[at], 0) if len(scored) else np.zeros(len(docs))
        return Scored(docs, scores.astype(SCORES)).times(q.boost)

    def _phrase_docs(self, q: wq.Phrase) -> np.ndarray | None:
        """Documents with the phrase's words at consecutive positions; None if some segment has
        no arrays or the phrase allows words between its words."""
        searcher = self._snapshot.searcher()
        field = searcher.schema[q.fieldname]
        words = [field.to_bytes(word) for word in q.words]
        if q.slop != 1 or not words or any(a is None or not all(a.holds(q.fieldname, w) for w in words)
                                           for a in self._arrays):
            return None
        found = []
        for (_, offset), arrays in zip(searcher.reader().leaf_readers(), self._arrays):
            places = None  # (document, position of the phrase's first word), as one int64 each
            for number, word in enumerate(words):
                positions, docs = arrays.positions(q.fieldname, word)
                keys = (docs.astype(np.int64) << 32) | (positions.astype(np.int64) + len(words) - number)
                places = keys if places is None else places[_member(places, keys)]
                if not len(places):
                    break
            if len(places):
                found.append(np.unique(places >> 32).astype(DOCS) + DOCS(offset))
        docs = np.concatenate(found) if found else EMPTY_DOCS
        return docs[self._alive[docs]] if self._alive is not None else docs


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """For each value, whether it is in `sorted_keys` (ascending): a binary search each, no sort
    of the (often far longer) keys of a common word."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_keys, values)
    at[at == len(sorted_keys)] = 0
    return sorted_keys[at] == values


def best(scored: Scored, count: int) -> np.ndarray:
    """Positions in `scored` of its `count` best documents, best first: highest
    score, ties to the lower document number (as Whoosh orders them)."""
    scores = scored.scores
    if len(scores) > count:
        cut = np.partition(scores, len(scores) - count)[len(scores) - count]
        candidates = np.flatnonzero(scores >= cut)
    else:
        candidates = np.arange(len(scores))
    return candidates[np.lexsort((scored.docs[candidates], -scores[candidates]))][:count]


def first_in_order(docs: np.ndarray, rank: np.ndarray, count: int) -> np.ndarray:
    """Positions in `docs` of the `count` documents that come first by `rank` (a document's place in a sort)."""
    keys = rank[docs]
    candidates = np.argpartition(keys, count - 1)[:count] if len(keys) > count else np.arange(len(keys))
    return candidates[np.argsort(keys[candidates], kind="stable")]


def sort_ranks(*keys: np.ndarray) -> np.ndarray:
    """Each document's place when sorted by `keys`, the first key first."""
    order = np.lexsort(keys[::-1])
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank
