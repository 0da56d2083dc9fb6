"""A `SearchRequest` as one OpenSearch search body, and its response as a `SearchPage`.

One round trip per page: the query (scored) in `query`; the facet selection in `post_filter`,
so that it narrows the hits but not the aggregations; one `filter` aggregation per facet holding
the other facets' selections (disjunctive counts: a facet's own selection does not narrow its
own counts); `collapse` on `article_id` with `inner_hits` for one hit per article and its exact
number of matching paragraphs; a `global` aggregation for the whole index's figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from ...search.facets import (
    FACETS,
    FACETS_BY_NAME,
    TOP_VALUES,
    ArticleFacet,
    Facet,
    FacetField,
    MonthFacet,
    facet_values,
)
from ...search.records import Hit, SearchPage, SearchRequest
from .highlights import field_spans, highlight_request, snippet, whole

CARDINALITY_PRECISION = 40_000  # exact counts up to this many values
RETURNED_FIELDS = ["id", "article_id", "title", "position", "section", "kind", "published", "author",
                   "source", "url", "topic", "text"]
SORTS = {
    "relevance": [{"_score": "desc"}, {"article_id": "asc"}, {"position": "asc"}],
    "newest": [{"published": {"order": "desc", "missing": "_last"}}, {"article_id": "asc"}, {"position": "asc"}],
    "oldest": [{"published": {"order": "asc", "missing": "_last"}}, {"article_id": "asc"}, {"position": "asc"}],
}


def value_filter(spec: FacetField, value: str) -> dict[str, object]:
    """What one selected facet value allows: a year of `published` selects its months."""
    if isinstance(spec, MonthFacet) and len(value) == 4 and value.isdigit():
        return {"prefix": {spec.field: f"{value}-"}}
    return {"term": {spec.field: value}}


def selection_filters(selected: Mapping[str, tuple[str, ...]]) -> dict[str, dict[str, object]]:
    """Each facet with a selection -> the filter of its values, combined with OR."""
    return {
        name: {"bool": {"should": [value_filter(FACETS_BY_NAME[name], v) for v in values], "minimum_should_match": 1}}
        for name, values in selected.items()
    }


def _all_of(filters: list[dict[str, object]]) -> dict[str, object]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _selected_values(request: SearchRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, values in request.filters for value in values]


def _facet_aggregation(spec: FacetField, others: list[dict[str, object]], selected: tuple[str, ...]):
    order = [{"_key": "desc"}] if spec.by_value else [{"_count": "desc"}, {"_key": "asc"}]
    values: dict[str, object] = {"terms": {"field": spec.field, "size": TOP_VALUES, "order": order}}
    if isinstance(spec, ArticleFacet):  # labelled with the article's title
        values["aggs"] = {"title": {"top_hits": {"size": 1, "_source": ["title"]}}}
    aggs: dict[str, object] = {
        "values": values,
        "distinct": {"cardinality": {"field": spec.field, "precision_threshold": CARDINALITY_PRECISION}},
    }
    if selected:
        aggs["selected"] = {"terms": {"field": spec.field, "include": list(selected), "size": len(selected)}}
    return {"filter": _all_of(others), "aggs": aggs}


def search_body(request: SearchRequest, query: dict[str, object] | None, time_limit: float) -> dict[str, object]:
    """The search body of one page of a request (`query` None: every paragraph)."""
    filters = selection_filters(request.selected)
    aggs: dict[str, object] = {
        f"facet_{spec.name}": _facet_aggregation(
            spec, [f for name, f in filters.items() if name != spec.name], request.selected.get(spec.name, ())
        )
        for spec in FACETS
    }
    everything: dict[str, object] = {
        "articles": {"cardinality": {"field": "article_id", "precision_threshold": CARDINALITY_PRECISION}},
    }
    if request.selected:
        everything["known"] = {"filters": {"filters": {
            f"v{n}": value_filter(FACETS_BY_NAME[name], value)
            for n, (name, value) in enumerate(_selected_values(request))
        }}}
    aggs["everything"] = {"global": {}, "aggs": everything}
    if request.group:
        aggs["grouped"] = {"filter": _all_of(list(filters.values())), "aggs": {
            "articles": {"cardinality": {"field": "article_id", "precision_threshold": CARDINALITY_PRECISION}},
        }}
    body: dict[str, object] = {
        "query": query or {"match_all": {}},
        "from": (request.page - 1) * request.per_page,
        "size": request.per_page,
        "sort": SORTS[request.sort],
        "track_scores": True,
        "track_total_hits": True,
        "timeout": f"{max(1, int(time_limit * 1000))}ms",
        "_source": RETURNED_FIELDS,
        "aggs": aggs,
        "highlight": highlight_request(("title", "text")),
    }
    if filters:
        body["post_filter"] = _all_of(list(filters.values()))
    if request.group:
        body["collapse"] = {"field": "article_id", "inner_hits": {"name": "article", "size": 0}}
    return body


def _facet(spec: FacetField, agg: Mapping[str, object], selected: tuple[str, ...]) -> Facet:
    buckets = agg["values"]["buckets"]
    shown = [(b["key"], b["doc_count"]) for b in buckets]
    listed = {value for value, _ in shown}
    shown += [(b["key"], b["doc_count"]) for b in agg.get("selected", {}).get("buckets", []) if b["key"] not in listed]
    titles = {
        b["key"]: b["title"]["hits"]["hits"][0]["_source"].get("title", "")
        for b in buckets if isinstance(spec, ArticleFacet) and b["title"]["hits"]["hits"]
    }
    label = (lambda value: titles.get(value) or value) if titles else None
    return facet_values(spec, shown, selected, label, more=max(0, agg["distinct"]["value"] - len(buckets)))


def _hit(raw: Mapping[str, object], grouped: bool) -> Hit:
    source = raw["_source"]
    highlight = raw.get("highlight", {})
    text, title = source.get("text", ""), source.get("title", "")
    topic = source.get("topic", [])
    more = 0
    if grouped:
        more = raw["inner_hits"]["article"]["hits"]["total"]["value"] - 1
    return Hit(
        id=source["id"], article_id=source["article_id"], title=title,
        title_html=whole(title, field_spans(highlight, "title", title)),
        position=source.get("position", 0), section=source.get("section", ""), kind=source.get("kind", "body"),
        published=source.get("published", ""), author=source.get("author", ""), source=source.get("source", ""),
        url=source.get("url", ""), topic=",".join(topic) if isinstance(topic, list) else topic, text=text,
        highlights=snippet(text, field_spans(highlight, "text", text)),
        score=float(raw.get("_score") or 0.0), more_in_article=max(0, more),
    )


def _notices(request: SearchRequest, response: Mapping[str, object], total: int) -> list[str]:
    notices = []
    known = response["aggregations"]["everything"].get("known", {}).get("buckets", {})
    for n, (name, value) in enumerate(_selected_values(request)):
        if not known[f"v{n}"]["doc_count"]:
            notices.append(f"No paragraph has {FACETS_BY_NAME[name].label.lower()} “{value}”.")
    if response.get("timed_out"):
        notices.append("The search took too long and was stopped; these are the hits found so far.")
    last_page = max(1, math.ceil(total / request.per_page))
    if request.page > last_page:
        pages = f"{last_page} page{'s' * (last_page > 1)}"
        notices.append(f"There {'is' if last_page == 1 else 'are'} only {pages} of results.")
    return notices


def search_page(request: SearchRequest, response: Mapping[str, object], notices: list[str],
                before: int = 0) -> SearchPage:
    """The page of results of a response to `search_body(request, …)`; `before`: hits of an earlier
    search that come first (the full matches, when this response has the partial ones)."""
    aggs = response["aggregations"]
    total = response["hits"]["total"]["value"] + before
    if request.group:
        total = aggs["grouped"]["articles"]["value"]
    facets = tuple(_facet(spec, aggs[f"facet_{spec.name}"], request.selected.get(spec.name, ())) for spec in FACETS)
    without = () if total else tuple(
        (name, aggs[f"facet_{name}"]["doc_count"]) for name in request.selected
    )
    return SearchPage(
        request=request, total=total,
        hits=tuple(_hit(raw, request.group) for raw in response["hits"]["hits"]),
        facets=facets, without=without,
        notices=tuple(dict.fromkeys([*notices, *_notices(request, response, total)])),
        timed_out=bool(response.get("timed_out")),
        documents=aggs["everything"]["doc_count"], articles=aggs["everything"]["articles"]["value"],
    )


def partial_body(request: SearchRequest, full: dict[str, object], relaxed: dict[str, object], full_total: int,
                 shown: int, time_limit: float) -> dict[str, object]:
    """The search for the paragraphs that match some of the words, to fill a page after the
    `full_total` full matches (`shown` of them on this page): its hits exclude the full matches,
    its facets count both, as the embedded index's do."""
    body = search_body(request, relaxed, time_limit)
    body["from"] = max(0, (request.page - 1) * request.per_page - full_total)
    body["size"] = request.per_page - shown
    selection = body.get("post_filter")
    body["post_filter"] = {"bool": {"filter": [selection] if selection else [], "must_not": [full]}}
    return body


def with_partial(page: SearchPage, partial: SearchPage) -> SearchPage:
    """`page` of full matches filled up with the hits of `partial`, which counts both."""
    if partial.total == page.total:  # the relaxed query found nothing more
        return page
    hits = page.hits + tuple(replace(hit, partial=True) for hit in partial.hits)
    return replace(partial, hits=hits, partial_from=len(page.hits) if partial.hits else None)
