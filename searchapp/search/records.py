"""The records the search stage hands out: requests (validated), pages, hits, articles."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from markupsafe import Markup

from ..errors import InvalidSearch
from .facets import FACETS, FACETS_BY_NAME, Facet

SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_query_text(text: str) -> str:
    """The query without control characters, lone surrogates (from undecodable
    command-line bytes) as U+FFFD, and spaces folded."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return " ".join(_CONTROL.sub(" ", text).split())




@dataclass(frozen=True)
class Limits:
    max_query_length: int = 500
    max_page: int = 1000
    max_per_page: int = 100
    time_limit: float = 2.0


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    group: bool = False
    typing: bool = False  # as-you-type: the last word also matches the words it begins

    @property
    def selected(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    def with_changes(self, **changes) -> SearchRequest:
        return replace(self, **changes)


def _positive_int(raw: object, name: str, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidSearch(f"{name} must be a whole number, not {str(raw)[:40]!r}.") from None
    if not 1 <= value <= maximum:
        raise InvalidSearch(f"{name} must be between 1 and {maximum}, not {value}.")
    return value


def make_request(
    q: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str | None = None,
    page: object = None,
    per_page: object = None,
    group: str | bool | None = None,
    limits: Limits = Limits(),
    default_per_page: int = 10,
) -> SearchRequest:
    """A validated request; raises `InvalidSearch` with a message for the person."""
    q = clean_query_text(q or "")
    if len(q) > limits.max_query_length:
        raise InvalidSearch(f"The query is {len(q)} characters long; the limit is {limits.max_query_length}.")
    sort = sort or "relevance"
    if sort not in SORTS:
        raise InvalidSearch(f"sort must be one of {', '.join(SORTS)}, not {sort[:40]!r}.")
    chosen: list[tuple[str, tuple[str, ...]]] = []
    for name, values in (filters or {}).items():
        if name not in FACETS_BY_NAME:
            raise InvalidSearch(f"There is no facet {name[:40]!r}; facets are {', '.join(FACETS_BY_NAME)}.")
        cleaned = tuple(dict.fromkeys(clean_query_text(v) for v in values if v and v.strip()))
        if len(cleaned) > 50 or any(len(v) > 200 for v in cleaned):
            raise InvalidSearch(f"Too many or too long values for facet {name!r}.")
        if cleaned:
            chosen.append((name, cleaned))
    chosen.sort(key=lambda item: [spec.name for spec in FACETS].index(item[0]))
    if group not in (None, "", False, True, "article", "1", "true", "0", "false", "none"):
        raise InvalidSearch(f"group must be 'article' or empty, not {str(group)[:40]!r}.")
    return SearchRequest(
        q=q,
        filters=tuple(chosen),
        sort=sort,
        page=_positive_int(page, "page", 1, limits.max_page),
        per_page=_positive_int(per_page, "per_page", default_per_page, limits.max_per_page),
        group=group in (True, "article", "1", "true"),
    )


@dataclass(frozen=True)
class Hit:
    id: str
    article_id: str
    title: str
    title_html: Markup
    position: int
    section: str
    kind: str
    published: str
    author: str
    source: str
    url: str
    topic: str
    text: str
    highlights: Markup
    score: float
    partial: bool = False  # matches only some of the words
    more_in_article: int = 0
    why: tuple[str, ...] = ()  # why a hit is there when not obvious: "matched government for goverment"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "article_id": self.article_id, "title": self.title,
            "title_highlights": str(self.title_html), "position": self.position, "section": self.section,
            "kind": self.kind,
            "published": self.published, "url": self.url, "text": self.text,
            "highlights": str(self.highlights), "score": round(self.score, 4),
            "partial": self.partial, "more_in_article": self.more_in_article, "why": list(self.why),
        }


@dataclass(frozen=True)
class SearchPage:
    request: SearchRequest
    total: int
    hits: tuple[Hit, ...]
    facets: tuple[Facet, ...]
    suggestion: str = ""
    corrected: bool = False  # the hits are for `suggestion`, since the query found nothing
    partial_from: int | None = None  # index in `hits` from which hits match only some words
    notices: tuple[str, ...] = ()
    timed_out: bool = False
    documents: int = 0
    articles: int = 0
    seconds: float = 0.0
    without: tuple[tuple[str, int], ...] = ()  # when nothing matched: hits if a facet's selection were dropped

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.request.per_page))

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.request.q,
            "total": self.total,
            "page": self.request.page,
            "per_page": self.request.per_page,
            "pages": self.pages,
            "sort": self.request.sort,
            "group": "article" if self.request.group else None,
            "hits": [hit.to_json() for hit in self.hits],
            "facets": {
                facet.name: [
                    {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                    for v in facet.values
                ]
                for facet in self.facets
            },
            "suggestion": self.suggestion or None,
            "corrected": self.corrected,
            "notices": list(self.notices),
            "timed_out": self.timed_out,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class ArticleParagraph:
    id: str
    position: int
    section: str
    kind: str
    html: Markup
    matched: bool


@dataclass(frozen=True)
class ArticleView:
    id: str
    title: str
    title_html: Markup
    author: str
    published: str
    source: str
    url: str
    topic: str
    credit: str
    paragraphs: tuple[ArticleParagraph, ...]
    entities: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, names) for people, places, organisations

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "title": self.title, "author": self.author, "published": self.published,
            "source": self.source, "url": self.url, "topic": self.topic, "credit": self.credit,
            **{facet: list(names) for facet, names in self.entities},
            "paragraphs": [
                {"id": p.id, "position": p.position, "section": p.section, "kind": p.kind,
                 "text": html.unescape(_strip_marks(str(p.html))), "highlights": str(p.html)}
                for p in self.paragraphs
            ],
        }


def _strip_marks(text: str) -> str:
    return text.replace("<mark>", "").replace("</mark>", "")
