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
    """Matching-document sets for one version of the index, shared by its searchers.

    Each call names the calling thread's own searcher: Whoosh searchers must not
    be shared between threads, but their document numbers are the same.
    """

    def __init__(self, searcher: Searcher):
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._cached_entries = 0
        self._lock = threading.Lock()
        self._all = frozenset(searcher.reader().all_doc_ids())

    def everything(self) -> frozenset[int]:
        return self._all

    def term(self, searcher: Searcher, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        cached = self._terms.get(key)
        if cached is not None:
            return cached
        docs: set[int] = set()
        for subsearcher, offset in searcher.leaf_searchers():
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

    def docs(self, searcher: Searcher, q: wq.Query) -> set[int] | frozenset[int]:
        """The documents `q` matches (deleted ones left out)."""
        if isinstance(q, wq.Term):
            return self.term(searcher, q.fieldname, q.text)
        if isinstance(q, wq.Every):
            return self.everything()
        if q is wq.NullQuery:
            return frozenset()
        if isinstance(q, wq.Or | wq.DisjunctionMax) and not getattr(q, "minmatch", 0):
            return frozenset().union(*(self.docs(searcher, child) for child in q.children()))
        if isinstance(q, wq.And):
            return self._conjunction(searcher, list(q.children()))
        if isinstance(q, wq.AndNot):
            return self.docs(searcher, q.a) - self.docs(searcher, q.b)
        if isinstance(q, wq.Not):
            return self.everything() - self.docs(searcher, q.query)
        return set(searcher.docs_for_query(q))

    def _conjunction(self, searcher: Searcher, children: list[wq.Query]) -> set[int] | frozenset[int]:
        required = [self.docs(searcher, c) for c in children if not isinstance(c, wq.Not)]
        excluded = [self.docs(searcher, c.query) for c in children if isinstance(c, wq.Not)]
        if required:
            smallest, *others = sorted(required, key=len)
            result = smallest.intersection(*others)
        else:
            result = self.everything()
        for docs in excluded:
            result = result - docs
        return result
