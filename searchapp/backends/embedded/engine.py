"""One search over one snapshot: match, filter, count facets, rank, page, highlight.

Everything here reads a single `Snapshot`, handed in by the caller, which
holds it for the whole request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from whoosh import query as wq

from ...errors import ArticleNotFound
from ...fields import ENTITY_FIELDS, SEARCHED
from ...search.facets import ARTICLE, FACETS_BY_NAME
from ...search.highlighting import mark, snippet
from ...search.records import ArticleParagraph, ArticleView, Hit, SearchPage, SearchRequest
from ...search.tolerance import QueryOptions, TypoPolicy
from .facet_counts import count_facets, selection_filters
from .matching import NOTHING, Deadline, Scored, TimeUp, best, contains, first_in_order, intersect, union_docs
from .query import parse_query, query_terms, relax, suggest
from .ranking import question_scores, question_words
from .snapshot import Snapshot

TIMED_OUT = "The search took too long and was stopped; these are the hits found so far."
TIMED_OUT_EMPTY = "The search took too long and was stopped before it found anything; try more specific words."


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
    spellings: dict[str, tuple[str, str]] = field(default_factory=dict)  # index term -> (word typed, spelling)


def search(snap: Snapshot, request: SearchRequest, time_limit: float, options: QueryOptions) -> SearchPage:
    """The page of results of `request` in this version of the index."""
    size = snap.size
    selected = request.selected
    filters = selection_filters(selected, snap.postings.term_docs, snap.months, size)
    notices = _unknown_values(snap, selected)
    deadline = Deadline(time_limit)
    match = _match(snap, request, filters, deadline, options)
    notices += match.notices
    facets = count_facets(snap.columns, match.matching, filters, selected, size, {"article": snap.title})
    hits, partial_from = _hits(snap, request, match)
    total = len(match.filtered)
    if request.group:
        total = len(snap.columns.count(ARTICLE, match.filtered))
    if deadline.expired:
        notices.append(TIMED_OUT if hits else TIMED_OUT_EMPTY)
    last_page = max(1, math.ceil(total / request.per_page))
    if request.page > last_page:
        notices.append(f"There {'is' if last_page == 1 else 'are'} only {last_page} "
                       f"page{'s' * (last_page > 1)} of results.")
    without = () if total else tuple(
        (name, len(intersect(match.matching, [docs for other, docs in filters.items() if other != name], size)))
        for name in filters
    )
    return SearchPage(
        request=request, total=total, hits=tuple(hits), facets=tuple(facets), without=without,
        suggestion=match.suggestion, corrected=match.corrected, partial_from=partial_from,
        notices=tuple(dict.fromkeys(notices)), timed_out=deadline.expired,
        documents=snap.documents, articles=snap.articles(),
    )


def _unknown_values(snap: Snapshot, selected: Mapping[str, tuple[str, ...]]) -> list[str]:
    """A notice for each selected value that no paragraph has."""
    return [
        f"No paragraph has {FACETS_BY_NAME[name].label.lower()} “{value}”."
        for name, values in selected.items()
        for value in values
        if not any(len(snap.postings.term_docs(FACETS_BY_NAME[name].field, term))
                   for term in FACETS_BY_NAME[name].selection_terms(value, snap.months))
    ]


def _evaluate(snap: Snapshot, q: wq.Query, deadline: Deadline) -> tuple[Scored, Scored | None]:
    """The documents `q` matches, scored; when the time is up, nothing, and what matched a part
    of the query by then (None if nothing did)."""
    if q is wq.NullQuery or deadline.expired:
        return NOTHING, None
    try:
        return snap.postings.evaluate(q, deadline), None
    except TimeUp as up:
        return NOTHING, up.found


def _evaluate_question(snap: Snapshot, words: list[wq.Query], deadline: Deadline) -> tuple[Scored, Scored | None]:
    """A question's graded matches (see `ranking`); nothing when the time is up first."""
    if deadline.expired:
        return NOTHING, None
    try:
        return question_scores(snap, words, deadline), None
    except TimeUp as up:
        return NOTHING, up.found


def _match(snap: Snapshot, request: SearchRequest, filters: dict[str, np.ndarray], deadline: Deadline,
           options: QueryOptions) -> _Match:
    """Which documents the query matches: all words (or their close spellings and synonyms);
    when few, also some of the words; when none, what "Did you mean" proposes."""
    size = snap.size
    allowed = list(filters.values())
    if not request.q:
        full, _ = _evaluate(snap, wq.Every(), deadline)
        return _Match(None, full, intersect(full.docs, allowed, size), full.docs)
    parsed = parse_query(request.q, snap, typing=request.typing, options=options)
    question = question_words(parsed.query)
    if question:
        full, part = _evaluate_question(snap, question, deadline)
    else:
        full, part = _evaluate(snap, parsed.query, deadline)
    match = _Match(parsed.query, full, intersect(full.docs, allowed, size), full.docs, notices=parsed.notices,
                   spellings=parsed.spellings)
    relaxed = relax(parsed.query) if len(match.filtered) < request.per_page and not question else None
    loose = _evaluate(snap, relaxed, deadline)[0] if relaxed is not None else NOTHING
    if part is not None and len(part) > len(loose):
        loose = part  # the time ran out: what matched some of the words by then
    if len(loose) > len(full):
        match.partial = loose.without(full.docs, size)
        match.matching = loose.docs
        match.filtered = intersect(loose.docs, allowed, size)
    if deadline.expired:
        return match
    match.suggestion = _suggestion(snap, request.q, options, deadline)
    if len(match.filtered) or not match.suggestion:
        return match
    corrected = parse_query(match.suggestion, snap, typing=False, options=options)
    found, _ = _evaluate(snap, corrected.query, deadline)
    filtered = intersect(found.docs, allowed, size)
    if len(filtered):
        return _Match(corrected.query, found, filtered, found.docs, suggestion=match.suggestion, corrected=True,
                      notices=match.notices, spellings=corrected.spellings)
    return match


def _suggestion(snap: Snapshot, q: str, options: QueryOptions, deadline: Deadline) -> str:
    """The query with its likely typos corrected, when that finds clearly more: the words as
    written, without close spellings, matching at least twice as many paragraphs."""
    corrected = suggest(q, snap.lexicon)
    if not corrected:
        return ""
    exact = replace(options, typos=TypoPolicy(enabled=False))
    counts = [len(_evaluate(snap, parse_query(text, snap, typing=False, options=exact).query, deadline)[0])
              for text in (q, corrected)]
    return corrected if counts[1] > 2 * counts[0] else ""


def _order(snap: Snapshot, scored: Scored, sort: str, count: int) -> np.ndarray:
    """Positions in `scored` of its first `count` documents in the requested order."""
    if sort == "relevance":
        return best(scored, count)
    return first_in_order(scored.docs, snap.ranks(sort), count)


def _top(snap: Snapshot, scored: Scored, request: SearchRequest, count: int,
         skip_articles: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
    """The first `count` (document, score) in order; grouped, only each article's best,
    looked for among ever more of the first documents until `count` articles are found."""
    if not len(scored):
        return []
    if not request.group:
        positions = _order(snap, scored, request.sort, count)
    else:
        articles = snap.article_codes()
        limit = count * 4
        while True:
            ordered = _order(snap, scored, request.sort, limit)
            _, first = np.unique(articles[scored.docs[ordered]], return_index=True)
            positions = [p for p in ordered[np.sort(first)] if articles[scored.docs[p]] not in skip_articles]
            if len(positions) >= count or limit >= len(scored):
                break
            limit *= 4
        positions = positions[:count]
    return [(int(scored.docs[p]), float(scored.scores[p])) for p in positions]


def _hits(snap: Snapshot, request: SearchRequest, match: _Match) -> tuple[list[Hit], int | None]:
    """The page's hits: full matches first, then (when few) partial ones."""
    size = snap.size
    start = (request.page - 1) * request.per_page
    end = start + request.per_page
    if start >= len(match.filtered):
        return [], None
    ranked = _top(snap, match.full.within(match.filtered, size), request, end)
    chosen = [(docnum, score, False) for docnum, score in ranked[start:end]]
    partial_from = None
    if match.partial is not None and len(chosen) < request.per_page:
        articles = snap.article_codes()
        seen = frozenset(int(articles[docnum]) for docnum, _ in ranked) if request.group else frozenset()
        skip = max(0, start - len(ranked))
        extra = _top(snap, match.partial.within(match.filtered, size), request, end, seen)
        partial_from = len(chosen)
        chosen += [(docnum, score, True) for docnum, score in extra[skip: skip + request.per_page - len(chosen)]]
    if partial_from == len(chosen):
        partial_from = None
    article_counts = snap.columns.count(ARTICLE, match.filtered) if request.group else None
    terms = query_terms(match.query) if match.query is not None else set()
    why = _why(snap, [docnum for docnum, _, _ in chosen], match.spellings)
    hits = [_hit(snap, docnum, score, partial, terms, article_counts, why.get(docnum, ()))
            for docnum, score, partial in chosen]
    return hits, partial_from


def _hit(snap: Snapshot, docnum: int, score: float, partial: bool, terms: set[str], article_counts,
         why: tuple[str, ...]) -> Hit:
    fields = snap.searcher().stored_fields(docnum)
    text = fields.get("text", "")
    title = fields.get("title", "")
    more = article_counts.get(fields["article_id"], 1) - 1 if article_counts is not None else 0
    return Hit(
        id=fields["id"], article_id=fields["article_id"], title=title,
        title_html=mark(title, terms, snap.word_terms)[0],
        position=fields.get("position", 0), section=fields.get("section", ""),
        kind=fields.get("kind", "body"), published=fields.get("published", ""),
        author=fields.get("author", ""), source=fields.get("source", ""),
        url=fields.get("url", ""), topic=fields.get("topic", ""), text=text,
        highlights=snippet(text, terms, snap.word_terms), score=score, partial=partial,
        more_in_article=max(0, more), why=why,
    )


def _why(snap: Snapshot, docnums: list[int], spellings: dict[str, tuple[str, str]]) -> dict[int, tuple[str, ...]]:
    """"matched government for goverment" for each hit that has a word only in a close spelling."""
    if not spellings or not docnums:
        return {}
    chosen = np.array(sorted(docnums), dtype=np.int32)

    def having(term: str) -> set[int]:
        docs = union_docs([snap.postings.term_docs(field, term) for field in SEARCHED], snap.size)
        return set(chosen[contains(docs, chosen, snap.size)].tolist())

    typed = {word: set().union(*map(having, snap.word_terms.words(word)[1])) for word, _ in spellings.values()}
    why: dict[int, list[str]] = {}
    for term, (word, spelling) in spellings.items():
        for docnum in having(term) - typed[word]:
            why.setdefault(docnum, []).append(f"matched {spelling} for {word}")
    return {docnum: tuple(dict.fromkeys(notes)) for docnum, notes in why.items()}


def article(snap: Snapshot, article_id: str, q: str, options: QueryOptions) -> ArticleView:
    """The whole article, its paragraphs in order, the query's words (`q`, cleaned) marked."""
    searcher = snap.searcher()
    docs = sorted(
        (searcher.stored_fields(docnum) for docnum in searcher.document_numbers(article_id=article_id)),
        key=lambda fields: fields.get("position", 0),
    )
    if not docs:
        raise ArticleNotFound(article_id)
    terms = query_terms(parse_query(q, snap, typing=False, options=options).query) if q else set()
    first = docs[0]
    return ArticleView(
        id=article_id, title=first.get("title", ""),
        title_html=mark(first.get("title", ""), terms, snap.word_terms)[0],
        author=first.get("author", ""), published=first.get("published", ""),
        source=first.get("source", ""), url=first.get("url", ""), topic=first.get("topic", ""),
        credit=first.get("credit", ""),
        paragraphs=tuple(
            ArticleParagraph(doc["id"], doc.get("position", 0), doc.get("section", ""),
                             doc.get("kind", "body"), *mark(doc.get("text", ""), terms, snap.word_terms))
            for doc in docs
        ),
        entities=tuple((facet, _names_in(docs, facet)) for facet in ENTITY_FIELDS),
    )


def _names_in(docs: Sequence[Mapping[str, object]], facet: str) -> tuple[str, ...]:
    """The article's distinct names of one entity facet, most mentioned first."""
    counts: dict[str, int] = {}
    for doc in docs:
        for name in str(doc.get(facet, "")).split(","):
            if name:
                counts[name] = counts.get(name, 0) + 1
    return tuple(sorted(counts, key=lambda name: (-counts[name], name)))
