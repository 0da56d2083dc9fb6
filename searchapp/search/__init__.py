"""Search: query parsing, filters, facet counts, highlighting, spelling, paging.

`Search(index_path).search(request)` returns a `SearchPage`; the web layer and
the CLI both call it and never touch Whoosh.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from ..indexing import ENTITY_FIELDS, IndexHandle, IndexMissing, read_meta
from ..lexicon import Lexicon
from .facets import (
    FACETS, FACETS_BY_NAME, Facet, FacetColumns, column_values, count_facets, selected_terms, selection_filters,
)
from .highlighting import mark, snippet
from .matching import NOTHING, Deadline, Postings, Scored, TimeUp, best, first_in_order, intersect, sort_ranks
from .query import QueryError, clean_query_text, close_words, parse_query, query_terms, relax, suggest_query, typo_tolerant_text

from .records import (
    SORTS, ArticleNotFound, ArticleParagraph, ArticleView, Hit, InvalidSearch, Limits, SearchPage, SearchRequest,
    make_request,
)

__all__ = [
    "FACETS", "SORTS", "ArticleNotFound", "ArticleView", "Facet", "Hit", "IndexMissing", "InvalidSearch",
    "Limits", "QueryError", "Search", "SearchPage", "SearchRequest", "make_request",
]

log = logging.getLogger(__name__)
ARTICLE = FACETS_BY_NAME["article"]


def _names_in(docs: Sequence[Mapping[str, object]], facet: str) -> tuple[str, ...]:
    """The article's distinct names of one entity facet, most mentioned first."""
    counts: dict[str, int] = {}
    for doc in docs:
        for name in str(doc.get(facet, "")).split(","):
            if name:
                counts[name] = counts.get(name, 0) + 1
    return tuple(sorted(counts, key=lambda name: (-counts[name], name)))


@dataclass
class _ReaderState:
    """What every thread's searcher of one version of the index shares."""

    columns: FacetColumns
    postings: Postings
    lexicon: Lexicon
    _articles: int | None = None
    titles: dict[str, str] = field(default_factory=dict)  # article id -> title, filled as facets show them
    _ranks: dict[str, np.ndarray] = field(default_factory=dict)
    _first_paragraphs: np.ndarray | None = None  # article code -> a document number of it

    def months(self, searcher: Searcher, year: str) -> list[str]:
        """The months of a year that some paragraph was published in."""
        return [term.decode("utf-8") for term in searcher.reader().expand_prefix("month", f"{year}-")]

    def articles(self) -> int:
        """How many articles have a paragraph that is not deleted."""
        if self._articles is None:
            self._articles = len(self.columns.count(ARTICLE, self.postings.everything()))
        return self._articles

    def article_codes(self) -> np.ndarray:
        """Each document's article, as a number."""
        return self.columns.codes(ARTICLE).single_codes()

    def first_paragraph(self, article_id: str) -> int | None:
        """The document number of one paragraph of the article."""
        if self._first_paragraphs is None:
            live = self.postings.everything()  # not a deleted paragraph: its article may have changed
            live = live[self.article_codes()[live] >= 0]
            firsts = np.full(len(self.columns.codes(ARTICLE).values), -1, dtype=np.int64)
            found, at = np.unique(self.article_codes()[live], return_index=True)
            firsts[found] = live[at]
            self._first_paragraphs = firsts
        code = self.columns.codes(ARTICLE).codes.get(article_id)
        return None if code is None or self._first_paragraphs[code] < 0 else int(self._first_paragraphs[code])

    def ranks(self, searcher: Searcher, sort: str) -> np.ndarray:
        """Each document's place in a date sort: by date, then article, then position."""
        if sort not in self._ranks:
            reader = searcher.reader()
            _, published = np.unique(np.array(column_values(reader, "published"), dtype=str), return_inverse=True)
            position = np.array([int(p or 0) for p in column_values(reader, "position")], dtype=np.int64)
            newest = sort == "newest"
            self._ranks[sort] = sort_ranks(-published if newest else published, self.article_codes(), position)
        return self._ranks[sort]


class _ArticleTitles:
    """Labels of the article facet: each title read once per index version, when first shown."""

    def __init__(self, state: _ReaderState, searcher: Searcher):
        self._state, self._searcher = state, searcher

    def get(self, article_id: str, default: str | None = None) -> str | None:
        titles = self._state.titles
        if article_id not in titles:
            docnum = self._state.first_paragraph(article_id)
            stored = self._searcher.stored_fields(docnum) if docnum is not None else {}
            titles[article_id] = stored.get("title", article_id)
        return titles[article_id] or default


@dataclass
class _Match:
    """The documents a query matches, before and after the facet filters."""

    query: wq.Query | None  # what was searched for (None: no query, every document)
    full: Scored  # documents matching every word, scored
    filtered: np.ndarray  # matching documents the facet selection allows
    matching: np.ndarray  # what facet counts describe: full matches, or with partial ones
    partial: Scored | None = None  # documents matching some words, when the page was filled up with them
    suggestion: str = ""
    corrected: bool = False
    notices: list[str] = field(default_factory=list)


class Search:
    """Searches one index folder; safe to share across threads."""

    def __init__(self, index_path: Path, limits: Limits = Limits(), cache_size: int = 256):
        self.handle = IndexHandle(Path(index_path))
        self.limits = limits
        self._cache: OrderedDict[tuple, SearchPage] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._states: dict[tuple, _ReaderState] = {}
        self._state_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------

    def _searcher(self) -> Searcher:
        return self.handle.searcher()

    def _reader_state(self, searcher: Searcher) -> _ReaderState:
        """Facet columns, term document sets and the word list of this version of the index.

        Every thread has its own searcher, but all see the same documents while
        the index is unchanged, so they share one state, made once.
        """
        key = self._generation_key(searcher)
        state = self._states.get(key)
        if state is None:
            with self._state_lock:
                state = self._states.get(key)
                if state is None:
                    generation = self.handle.generation
                    state = _ReaderState(
                        FacetColumns(searcher.reader()), Postings(searcher, generation),
                        Lexicon.load(generation) if generation else Lexicon(),
                    )
                    self._states = {key: state}
        return state

    def _generation_key(self, searcher: Searcher) -> tuple:
        return (str(self.handle.generation), searcher.reader().generation(), searcher.doc_count())

    def _cached(self, key: tuple) -> SearchPage | None:
        with self._cache_lock:
            page = self._cache.get(key)
            if page is not None:
                self._cache.move_to_end(key)
            return page

    def _remember(self, key: tuple, page: SearchPage) -> None:
        if self._cache_size <= 0 or page.timed_out:
            return
        with self._cache_lock:
            self._cache[key] = page
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    # -- searching --------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        searcher = self._searcher()
        key = (self._generation_key(searcher), request)
        cached = self._cached(key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        page = self._search(searcher, request)
        page = replace(page, seconds=round(time.perf_counter() - started, 4))
        self._remember(key, page)
        return page

    def _search(self, searcher: Searcher, request: SearchRequest) -> SearchPage:
        state = self._reader_state(searcher)
        size = state.postings.size
        selected = request.selected
        filters = selection_filters(
            selected, lambda field, value: state.postings.term_docs(searcher, field, value),
            lambda year: state.months(searcher, year), size,
        )
        notices = self._unknown_values(selected, state, searcher)
        deadline = Deadline(self.limits.time_limit)
        match = self._match(searcher, state, request, filters, deadline)
        notices += match.notices
        facets = count_facets(state.columns, match.matching, filters, selected, size,
                              {"article": _ArticleTitles(state, searcher)})
        hits, partial_from = self._hits(searcher, state, request, match)
        total = len(match.filtered)
        if request.group:
            total = len(state.columns.count(ARTICLE, match.filtered))
        if deadline.expired:
            notices.append("The search took too long and was stopped; these are the hits found so far.")
        last_page = max(1, math.ceil(total / request.per_page))
        if request.page > last_page:
            notices.append(f"There {'is' if last_page == 1 else 'are'} only {last_page} page{'s' * (last_page > 1)} of results.")
        without = () if total else tuple(
            (name, len(intersect(match.matching, [docs for other, docs in filters.items() if other != name], size)))
            for name in filters
        )
        return SearchPage(
            request=request, total=total, hits=tuple(hits), facets=tuple(facets), without=without,
            suggestion=match.suggestion, corrected=match.corrected, partial_from=partial_from,
            notices=tuple(dict.fromkeys(notices)), timed_out=deadline.expired,
            documents=searcher.doc_count(), articles=state.articles(),
        )

    @staticmethod
    def _unknown_values(selected, state: _ReaderState, searcher: Searcher) -> list[str]:
        """A notice for each selected value that no paragraph has."""
        return [
            f"No paragraph has {FACETS_BY_NAME[name].label.lower()} “{value}”."
            for name, values in selected.items()
            for value in values
            if not any(len(state.postings.term_docs(searcher, FACETS_BY_NAME[name].field, term))
                       for term in selected_terms(FACETS_BY_NAME[name], value, lambda y: state.months(searcher, y)))
        ]

    @staticmethod
    def _evaluate(state: _ReaderState, searcher: Searcher, q: wq.Query, deadline: Deadline) -> Scored:
        """The documents `q` matches, scored; what was found in time when the time is up."""
        if q is wq.NullQuery or deadline.expired:
            return NOTHING
        try:
            return state.postings.evaluate(searcher, q, deadline)
        except TimeUp:
            return NOTHING

    def _match(self, searcher: Searcher, state: _ReaderState, request: SearchRequest,
               filters: dict[str, np.ndarray], deadline: Deadline) -> _Match:
        """Which documents the query matches: all words; else most words; else close spellings."""
        size = state.postings.size
        if not request.q:
            full = self._evaluate(state, searcher, wq.Every(), deadline)
            return _Match(None, full, intersect(full.docs, list(filters.values()), size), full.docs)
        parsed = parse_query(request.q, searcher, state.lexicon, typing=request.typing)
        full = self._evaluate(state, searcher, parsed.query, deadline)
        match = _Match(parsed.query, full, intersect(full.docs, list(filters.values()), size), full.docs,
                       notices=parsed.notices)
        relaxed = relax(parsed.query) if len(match.filtered) < request.per_page else None
        if relaxed is not None:
            loose = self._evaluate(state, searcher, relaxed, deadline)
            if len(loose) > len(full):
                match.partial = loose.without(full.docs, size)
                match.matching = loose.docs
                match.filtered = intersect(loose.docs, list(filters.values()), size)
        if len(match.filtered):
            return match
        close = close_words(request.q, state.lexicon)
        match.suggestion = suggest_query(request.q, close)
        tolerant_text = typo_tolerant_text(request.q, close)
        if tolerant_text:
            tolerant = parse_query(tolerant_text, searcher, state.lexicon, typing=False)
            found = self._evaluate(state, searcher, tolerant.query, deadline)
            filtered = intersect(found.docs, list(filters.values()), size)
            if len(filtered):
                return _Match(tolerant.query, found, filtered, found.docs,
                              suggestion=match.suggestion, corrected=True, notices=match.notices)
        return match

    @staticmethod
    def _order(searcher: Searcher, state: _ReaderState, scored: Scored, sort: str, count: int) -> np.ndarray:
        """Positions in `scored` of its first `count` documents in the requested order."""
        if sort == "relevance":
            return best(scored, count)
        return first_in_order(scored.docs, state.ranks(searcher, sort), count)

    def _top(self, searcher: Searcher, state: _ReaderState, scored: Scored, request: SearchRequest, count: int,
             skip_articles: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """The first `count` (document, score) in order; grouped, only each article's best,
        looked for among ever more of the first documents until `count` articles are found."""
        if not len(scored):
            return []
        if not request.group:
            positions = self._order(searcher, state, scored, request.sort, count)
        else:
            articles = state.article_codes()
            limit = count * 4
            while True:
                ordered = self._order(searcher, state, scored, request.sort, limit)
                _, first = np.unique(articles[scored.docs[ordered]], return_index=True)
                positions = [p for p in ordered[np.sort(first)] if articles[scored.docs[p]] not in skip_articles]
                if len(positions) >= count or limit >= len(scored):
                    break
                limit *= 4
            positions = positions[:count]
        return [(int(scored.docs[p]), float(scored.scores[p])) for p in positions]

    def _hits(self, searcher: Searcher, state: _ReaderState, request: SearchRequest,
              match: _Match) -> tuple[list[Hit], int | None]:
        """The page's hits: full matches first, then (when few) partial ones."""
        size = state.postings.size
        start = (request.page - 1) * request.per_page
        end = start + request.per_page
        if start >= len(match.filtered):
            return [], None
        ranked = self._top(searcher, state, match.full.within(match.filtered, size), request, end)
        chosen = [(docnum, score, False) for docnum, score in ranked[start:end]]
        partial_from = None
        if match.partial is not None and len(chosen) < request.per_page:
            articles = state.article_codes()
            seen = frozenset(int(articles[docnum]) for docnum, _ in ranked) if request.group else frozenset()
            skip = max(0, start - len(ranked))
            extra = self._top(searcher, state, match.partial.within(match.filtered, size), request, end, seen)
            partial_from = len(chosen)
            chosen += [(docnum, score, True) for docnum, score in extra[skip: skip + request.per_page - len(chosen)]]
        if partial_from == len(chosen):
            partial_from = None
        article_counts = state.columns.count(ARTICLE, match.filtered) if request.group else None
        terms = query_terms(match.query) if match.query is not None else set()
        return [self._hit(searcher, docnum, score, partial, terms, article_counts)
                for docnum, score, partial in chosen], partial_from

    @staticmethod
    def _hit(searcher: Searcher, docnum: int, score: float, partial: bool, terms: set[str], article_counts) -> Hit:
        fields = searcher.stored_fields(docnum)
        text = fields.get("text", "")
        title = fields.get("title", "")
        analyzer = searcher.schema["text"].analyzer
        more = article_counts.get(fields["article_id"], 1) - 1 if article_counts is not None else 0
        return Hit(
            id=fields["id"], article_id=fields["article_id"], title=title,
            title_html=mark(title, terms, searcher.schema["title"].analyzer)[0],
            position=fields.get("position", 0), section=fields.get("section", ""),
            kind=fields.get("kind", "body"), published=fields.get("published", ""),
            author=fields.get("author", ""), source=fields.get("source", ""),
            url=fields.get("url", ""), topic=fields.get("topic", ""), text=text,
            highlights=snippet(text, terms, analyzer), score=score, partial=partial,
            more_in_article=max(0, more),
        )

    # -- articles and overview ------------------------------------------------------

    def article(self, article_id: str, q: str = "") -> ArticleView:
        """The whole article, its paragraphs in order, the query's words marked."""
        searcher = self._searcher()
        docs = sorted(
            (searcher.stored_fields(docnum) for docnum in searcher.document_numbers(article_id=article_id)),
            key=lambda fields: fields.get("position", 0),
        )
        if not docs:
            raise ArticleNotFound(article_id)
        terms = set()
        if q.strip():
            lexicon = self._reader_state(searcher).lexicon
            parsed = parse_query(clean_query_text(q)[: self.limits.max_query_length], searcher, lexicon, typing=False)
            terms = query_terms(parsed.query)
        analyzer = searcher.schema["text"].analyzer
        first = docs[0]
        return ArticleView(
            id=article_id, title=first.get("title", ""),
            title_html=mark(first.get("title", ""), terms, analyzer)[0],
            author=first.get("author", ""), published=first.get("published", ""),
            source=first.get("source", ""), url=first.get("url", ""), topic=first.get("topic", ""),
            credit=first.get("credit", ""),
            paragraphs=tuple(
                ArticleParagraph(doc["id"], doc.get("position", 0), doc.get("section", ""),
                                 doc.get("kind", "body"), *mark(doc.get("text", ""), terms, analyzer))
                for doc in docs
            ),
            entities=tuple((facet, _names_in(docs, facet)) for facet in ENTITY_FIELDS),
        )

    def close(self) -> None:
        """Close the open searchers now; the next search opens the index again."""
        self.handle.close()
        self._states = {}

    def __enter__(self) -> Search:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def warm(self) -> None:
        """Open the index and read the facet columns now, so the first visitor does not wait."""
        try:
            self.overview()
        except IndexMissing:
            log.info("no index to warm up yet")

    def overview(self) -> SearchPage:
        """The corpus at a glance: every document, the facet values with counts."""
        return self.search(SearchRequest(per_page=1))

    def info(self) -> dict[str, object]:
        searcher = self._searcher()
        meta = read_meta(self.handle.generation) if self.handle.generation else {}
        return {
            "documents": searcher.doc_count(),
            "built_at": meta.get("built_at", ""),
            "updated_at": meta.get("updated_at", ""),
            "generation": self.handle.generation.name if self.handle.generation else "",
        }
