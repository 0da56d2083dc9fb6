"""searchapp on an OpenSearch cluster: the same requests and pages as the embedded index.

`OpenSearchBackend.from_env()` reads `SEARCHAPP_OPENSEARCH_URL` (comma-separated node URLs),
`_USER`, `_PASSWORD`, `_CA_FILE` and `_INDEX` (the alias searches go to, default `searchapp`).
Searches, articles and statistics go to the alias; builds fill a new physical index and move
the alias (see `indexer`). An unreachable cluster raises `ClusterUnavailable`, a
`SearchIndexError` (the web answers 503); no alias yet raises `IndexMissing`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from opensearchpy import exceptions as os_errors

from ...errors import ArticleNotFound, IndexMissing, InvalidSearch
from ...search.records import ArticleParagraph, ArticleView, Limits, SearchPage, SearchRequest, clean_query_text
from ...search.tolerance import QueryOptions
from ..base import BuildSummary, Progress
from . import indexer, updating
from .connection import ClusterRefused, ClusterUnavailable, OpenSearchSettings, call, make_client
from .highlights import field_spans, highlight_request, whole
from .mapping import ENTITY_FIELDS
from .query_language import translate
from .searching import partial_body, search_body, search_page, with_partial

__all__ = ["ClusterRefused", "ClusterUnavailable", "OpenSearchBackend", "OpenSearchSettings"]

log = logging.getLogger(__name__)
MAX_PARAGRAPHS = 10_000  # of one article
SLOW_SEARCH_SECONDS = 1.0
FAILOVER_PAUSES = (0.25, 0.5, 1.0)  # seconds before retrying a failed search on a cluster of several nodes


class OpenSearchBackend:
    """Searches, builds and updates one alias on one cluster; safe to share across threads."""

    def __init__(self, settings: OpenSearchSettings, limits: Limits = Limits(), entities: str = "rules",
                 options: QueryOptions = QueryOptions(), entity_aliases: str = ""):
        self.settings, self.limits, self.entities, self.options = settings, limits, entities, options
        self.entity_aliases = entity_aliases
        self.client = make_client(settings)
        self._options = (options.typos, options.synonyms)

    @classmethod
    def from_env(cls, limits: Limits = Limits(), entities: str = "rules", options: QueryOptions = QueryOptions(),
                 entity_aliases: str = "") -> OpenSearchBackend:
        return cls(OpenSearchSettings.from_env(), limits, entities, options, entity_aliases)

    def _search(self, body: dict[str, object]) -> dict[str, object]:
        """One search request; while a node of several is failing (its shard copies not yet failed over:
        "all shards failed"), retried after `FAILOVER_PAUSES`, logged."""
        timeout = self.limits.time_limit + self.settings.timeout
        pauses = list(FAILOVER_PAUSES) if len(self.settings.urls) > 1 else []
        while True:
            try:
                return call(self.settings, lambda: self.client.search(
                    index=self.settings.index, body=body, params={"request_timeout": timeout}))
            except os_errors.RequestError as error:  # a 400: a query OpenSearch cannot run (too many clauses, …)
                log.warning("OpenSearch refused a search: %s", error)
                raise InvalidSearch(f"The search could not be run: {error.error}.") from None
            except ClusterUnavailable as error:
                if not pauses or isinstance(error.__cause__, os_errors.ConnectionError):  # the client tried each node
                    raise
                log.warning("%s; retrying in %.2f s", error, pauses[0])
                time.sleep(pauses.pop(0))

    def search(self, request: SearchRequest) -> SearchPage:
        started = time.perf_counter()
        query, notices, relaxed = (translate(request.q, request.typing, *self._options) if request.q
                                   else (None, [], None))
        if request.q and query is None:  # nothing searchable left: no hits, but facets of nothing
            query = {"match_none": {}}
        response = self._search(search_body(request, query, self.limits.time_limit))
        page = search_page(request, response, notices)
        if relaxed is not None and page.total < request.per_page and not request.group:
            body = partial_body(request, query, relaxed, page.total, len(page.hits), self.limits.time_limit)
            page = with_partial(page, search_page(request, self._search(body), notices, before=page.total))
        seconds = round(time.perf_counter() - started, 4)
        if seconds > SLOW_SEARCH_SECONDS:
            log.warning("slow search (%.2f s, OpenSearch %s ms): %r", seconds, response.get("took"), request)
        return replace(page, seconds=seconds)

    def overview(self) -> SearchPage:
        """The corpus at a glance: every document, the facet values with counts."""
        return self.search(SearchRequest(per_page=1))

    def article(self, article_id: str, q: str = "") -> ArticleView:
        """The whole article, its paragraphs in order, the query's words marked."""
        q = clean_query_text(q)[: self.limits.max_query_length]
        query = translate(q, False, *self._options)[0] if q else None
        body: dict[str, object] = {
            "query": {"term": {"article_id": article_id}}, "size": MAX_PARAGRAPHS, "sort": [{"position": "asc"}],
            "_source": {"excludes": ["article_hash", "origin"]},
        }
        if query:  # a paragraph matched when the query's words are marked in its text, as in the embedded index
            body["highlight"] = {**highlight_request(("title", "text")), "highlight_query": query}
        hits = self._search(body)["hits"]["hits"]
        if not hits:
            raise ArticleNotFound(article_id)
        first = hits[0]["_source"]
        title = first.get("title", "")
        marked = [field_spans(hit.get("highlight", {}), "text", hit["_source"].get("text", "")) for hit in hits]
        title_marks = next((field_spans(h["highlight"], "title", title) for h in hits if "highlight" in h), [])
        return ArticleView(
            id=article_id, title=title, title_html=whole(title, title_marks),
            author=first.get("author", ""), published=first.get("published", ""), source=first.get("source", ""),
            url=first.get("url", ""), topic=",".join(first.get("topic", [])), credit=first.get("credit", ""),
            paragraphs=tuple(
                ArticleParagraph(
                    hit["_source"]["id"], hit["_source"].get("position", 0), hit["_source"].get("section", ""),
                    hit["_source"].get("kind", "body"), whole(hit["_source"].get("text", ""), marks), bool(marks),
                )
                for hit, marks in zip(hits, marked)
            ),
            entities=tuple((name, _names_in([hit["_source"] for hit in hits], name)) for name in ENTITY_FIELDS),
        )

    def info(self) -> dict[str, object]:
        """What `/healthz` shows: documents, build and update times, the physical index."""
        figures = self.stats()
        return {key: figures[key] for key in ("built_at", "updated_at", "generation")} | {
            "documents": figures["paragraphs"]}

    def stats(self) -> dict[str, object]:
        return updating.stats(self.client, self.settings)

    def build(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0,
              procs: int | None = None) -> BuildSummary:
        """A new physical index, then the alias moved to it (`procs`: the cluster does the work)."""
        return indexer.build(self.client, self.settings, sources, progress, wait, self.entities, self.entity_aliases)

    def update(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0) -> BuildSummary:
        return updating.update(self.client, self.settings, sources, progress, wait, self.entities,
                               self.entity_aliases)

    def warm(self) -> None:
        """Ask once now, so that a cluster that cannot be reached shows in the log at start."""
        try:
            self.overview()
        except (ClusterUnavailable, ClusterRefused, IndexMissing) as error:
            log.warning("%s", error)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> OpenSearchBackend:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _names_in(docs: list[dict[str, object]], facet: str) -> tuple[str, ...]:
    """The article's distinct names of one entity facet, most mentioned first."""
    counts: dict[str, int] = {}
    for doc in docs:
        for name in doc.get(facet, []):
            counts[name] = counts.get(name, 0) + 1
    return tuple(sorted(counts, key=lambda name: (-counts[name], name)))
