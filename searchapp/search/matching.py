"""The set of documents a query matches, by set algebra on posting lists.

Facet counts need every matching document, not just the top ten. Whoosh finds
them by walking its And/Or matcher tree one document at a time in Python;
reading each term's documents once (cached per reader) and combining them with
set operations, which run in C, is many times faster, and as-you-type queries
reuse the sets of the words already typed.
"""

from __future__ import annotations

import threading

from whoosh import query as wq
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

TERM_CACHE_ENTRIES = 500_000  # document numbers kept in cached sets, summed (a few dozen MB)


class DocSets:
    """Matching-document sets for one searcher's reader."""

    def __init__(self, searcher: Searcher):
        self._searcher = searcher
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._cached_entries = 0
        self._lock = threading.Lock()
        self._all: frozenset[int] | None = None

    def everything(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(self._searcher.reader().all_doc_ids())
        return self._all

    def term(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        cached = self._terms.get(key)
        if cached is not None:
            return cached
        docs: set[int] = set()
        for subsearcher, offset in self._searcher.leaf_searchers():
            try:
                matcher = subsearcher.reader().postings(fieldname, text)
            except TermNotFound:
                continue
            docs.update(docnum + offset for docnum in matcher.all_ids())
        found = frozenset(docs)
        with self._lock:
            if self._cached_entries + len(found) > TERM_CACHE_ENTRIES:
                self._terms.clear()
                self._cached_entries = 0
            if len(found) <= TERM_CACHE_ENTRIES // 4:
                self._terms[key] = found
                self._cached_entries += len(found)
        return found

    def docs(self, q: wq.Query) -> set[int] | frozenset[int]:
        """The documents `q` matches (deleted ones left out)."""
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.Every):
            return self.everything()
        if q is wq.NullQuery:
            return frozenset()
        if isinstance(q, wq.Or | wq.DisjunctionMax) and not getattr(q, "minmatch", 0):
            return frozenset().union(*(self.docs(child) for child in q.children()))
        if isinstance(q, wq.And):
            return self._conjunction(list(q.children()))
        if isinstance(q, wq.AndNot):
            return self.docs(q.a) - self.docs(q.b)
        if isinstance(q, wq.Not):
            return self.everything() - self.docs(q.query)
        return set(self._searcher.docs_for_query(q))

    def _conjunction(self, children: list[wq.Query]) -> set[int] | frozenset[int]:
        required = [self.docs(c) for c in children if not isinstance(c, wq.Not)]
        excluded = [self.docs(c.query) for c in children if isinstance(c, wq.Not)]
        if required:
            smallest, *others = sorted(required, key=len)
            result = smallest.intersection(*others)
        else:
            result = self.everything()
        for docs in excluded:
            result = result - docs
        return result
