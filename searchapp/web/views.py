"""What templates print: every link (facet toggles, chips, pages, sort) built here as a real URL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for

from ..search import FACETS, SORTS, ArticleView, Hit, SearchPage, SearchRequest
from ..search.facets import FACETS_BY_NAME


@dataclass(frozen=True)
class LinkedValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class FacetBlock:
    name: str
    label: str
    values: tuple[LinkedValue, ...]
    more: int


@dataclass(frozen=True)
class Chip:
    facet: str
    label: str
    url: str


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str | None
    current: bool = False


@dataclass(frozen=True)
class HitView:
    hit: Hit
    article_url: str
    more_url: str | None


def request_params(req: SearchRequest, default_per_page: int = 10) -> list[tuple[str, str]]:
    """The URL parameters that describe a request, in a stable order, defaults left out."""
    params: list[tuple[str, str]] = [("q", req.q)] if req.q else []
    params += [(name, value) for name, values in req.filters for value in values]
    if req.sort != "relevance":
        params.append(("sort", req.sort))
    if req.group:
        params.append(("group", "article"))
    if req.per_page != default_per_page:
        params.append(("per_page", str(req.per_page)))
    if req.page > 1:
        params.append(("page", str(req.page)))
    return params


def url_with(endpoint: str, params: Iterable[tuple[str, str]], **values) -> str:
    query = urlencode(list(params))
    return url_for(endpoint, **values) + (f"?{query}" if query else "")


def search_url(req: SearchRequest, default_per_page: int = 10) -> str:
    return url_with("web.search_page", request_params(req, default_per_page))


def toggled(req: SearchRequest, name: str, value: str) -> SearchRequest:
    """The request with one facet value switched on or off, back on page 1."""
    selected = dict(req.filters)
    values = selected.get(name, ())
    values = tuple(v for v in values if v != value) if value in values else (*values, value)
    order = [spec.name for spec in FACETS]
    filters = tuple(sorted(((n, v) for n, v in {**selected, name: values}.items() if v),
                           key=lambda item: order.index(item[0])))
    return req.with_changes(filters=filters, page=1)


def facet_blocks(page: SearchPage, per_page: int) -> list[FacetBlock]:
    return [
        FacetBlock(facet.name, facet.label, tuple(
            LinkedValue(v.value, v.label, v.count, v.selected,
                        search_url(toggled(page.request, facet.name, v.value), per_page))
            for v in facet.values
        ), facet.more)
        for facet in page.facets
        if facet.values
    ]


def chips(page: SearchPage, per_page: int) -> list[Chip]:
    labels = {(f.name, v.value): v.label for f in page.facets for v in f.values}
    return [
        Chip(FACETS_BY_NAME[name].label, labels.get((name, value)) or FACETS_BY_NAME[name].value_label(value),
             search_url(toggled(page.request, name, value), per_page))
        for name, values in page.request.filters
        for value in values
    ]


def page_links(page: SearchPage, per_page: int) -> list[PageLink]:
    """Previous, a window of page numbers with the first and last, next."""
    current, last = page.request.page, page.pages
    if last <= 1:
        return []

    def link(number: int) -> str:
        return search_url(page.request.with_changes(page=number), per_page)

    numbers = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    links = [PageLink("Previous", link(current - 1) if current > 1 else None)]
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append(PageLink("…", None))
        links.append(PageLink(str(number), link(number), number == current))
        previous = number
    links.append(PageLink("Next", link(current + 1) if current < last else None))
    return links


def sort_links(req: SearchRequest, per_page: int) -> list[PageLink]:
    return [PageLink(label, search_url(req.with_changes(sort=key, page=1), per_page), key == req.sort)
            for key, label in SORTS.items()]


def hit_views(page: SearchPage, per_page: int) -> list[HitView]:
    req = page.request
    search_params = request_params(req.with_changes(page=1), per_page)
    views = []
    for hit in page.hits:
        article_url = url_with("web.article_page", search_params, article_id=hit.article_id) + f"#{hit.id}"
        more_url = None
        if hit.more_in_article:
            more_url = search_url(toggled(req.with_changes(group=False), "article", hit.article_id)
                                  if hit.article_id not in req.selected.get("article", ()) else req, per_page)
        views.append(HitView(hit, article_url, more_url))
    return views


def results_context(page: SearchPage, per_page: int) -> dict[str, object]:
    """Everything `_results.html` prints for one search."""
    req = page.request
    corrected_url = search_url(req.with_changes(q=page.suggestion, page=1), per_page) if page.suggestion else None
    return {
        "page": page,
        "req": req,
        "hits": hit_views(page, per_page),
        "facets": facet_blocks(page, per_page),
        "chips": chips(page, per_page),
        "clear_url": search_url(SearchRequest(q=req.q), per_page) if req.filters else None,
        "pages": page_links(page, per_page),
        "sorts": sort_links(req, per_page),
        "group_url": search_url(req.with_changes(group=not req.group, page=1), per_page),
        "suggestion_url": corrected_url,
        "keep": [(n, v) for n, v in request_params(req.with_changes(q="", page=1), per_page)],
        "drops": [
            (FACETS_BY_NAME[name].label, count, search_url(req.with_changes(
                filters=tuple((n, v) for n, v in req.filters if n != name), page=1), per_page))
            for name, count in page.without
        ],
    }


def kind_label(kind: str) -> str:
    """A paragraph kind as the kind facet shows it (`body` -> `Body text`): one label everywhere."""
    return FACETS_BY_NAME["kind"].value_label(kind)


def entity_links(article: ArticleView) -> list[tuple[str, list[tuple[str, str]]]]:
    """The people, places and organisations of an article, each a link to the paragraphs naming it."""
    return [
        (FACETS_BY_NAME[facet].label, [(name, url_with("web.search_page", [(facet, name)])) for name in names])
        for facet, names in article.entities
        if names
    ]
