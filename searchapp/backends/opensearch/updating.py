"""Updating the live OpenSearch index by article content hash, and its statistics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from opensearchpy import OpenSearch, helpers

from ...articles import Article, ReadReport, read_articles
from ...entities import Entities, EntityNames
from ...paragraphs import split_paragraphs
from ..base import BuildSummary, Progress
from .connection import OpenSearchSettings, call
from .indexer import ARTICLES_PER_BATCH, build_lock, bulk, live_index, load_names, named_articles, now, save_names
from .mapping import document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Indexed:
    content_hash: str
    origin: str


def indexed_articles(client: OpenSearch, index: str) -> dict[str, Indexed]:
    """article id -> its content hash and source file, for every article in the index."""
    found: dict[str, Indexed] = {}
    after = None
    while True:
        composite: dict[str, object] = {"size": 1000, "sources": [
            {"article_id": {"terms": {"field": "article_id"}}},
            {"article_hash": {"terms": {"field": "article_hash", "missing_bucket": True}}},
            {"origin": {"terms": {"field": "origin", "missing_bucket": True}}},
        ]}
        if after:
            composite["after"] = after
        response = client.search(index=index, body={"size": 0, "aggs": {"articles": {"composite": composite}}})
        agg = response["aggregations"]["articles"]
        for bucket in agg["buckets"]:
            key = bucket["key"]
            found.setdefault(key["article_id"], Indexed(key["article_hash"] or "", key["origin"] or ""))
        after = agg.get("after_key")
        if not agg["buckets"] or not after:
            return found


def paragraph_ids(client: OpenSearch, index: str, article_ids: list[str]) -> dict[str, set[str]]:
    """article id -> the ids of its paragraphs in the index."""
    ids: dict[str, set[str]] = {article_id: set() for article_id in article_ids}
    if not article_ids:
        return ids
    query = {"query": {"terms": {"article_id": article_ids}}, "_source": ["article_id"]}
    for hit in helpers.scan(client, index=index, query=query, size=1000):
        ids[hit["_source"]["article_id"]].add(hit["_id"])
    return ids


def _within(origin: str, sources: list[Path]) -> bool:
    path = Path(origin)
    return any(path == source or source in path.parents for source in sources)


class _Update:
    """The bulk actions of one update, made batch by batch of changed articles."""

    def __init__(self, client: OpenSearch, index: str, indexed: dict[str, Indexed], summary: BuildSummary,
                 entities: str, progress: Progress | None, names: EntityNames, aliases: str):
        self.client, self.index, self.indexed = client, index, indexed
        self.summary, self.entities, self.progress = summary, entities, progress
        self.names, self.aliases = names, aliases  # the archive's entity name counts, with the changed articles'
        self.seen: set[str] = set()

    def _changed_articles(self, articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            if article.id in self.seen:
                continue
            self.seen.add(article.id)
            known = self.indexed.get(article.id)
            if known is not None and known.content_hash == article.content_hash:
                self.summary.unchanged += 1
                if self.progress:
                    self.progress(article)
            else:
                yield article

    def actions(self, articles: Iterable[Article], sources: list[Path]) -> Iterator[dict[str, object]]:
        changed = named_articles(self._changed_articles(articles), self.entities, self.aliases, self.progress,
                                 self.names)
        for start in range(0, len(changed), ARTICLES_PER_BATCH):
            yield from self._changed(changed[start:start + ARTICLES_PER_BATCH])
        gone = [article_id for article_id, known in self.indexed.items()
                if article_id not in self.seen and (not Path(known.origin).exists() or _within(known.origin, sources))]
        for start in range(0, len(gone), ARTICLES_PER_BATCH):
            for ids in paragraph_ids(self.client, self.index, gone[start:start + ARTICLES_PER_BATCH]).values():
                yield from ({"_op_type": "delete", "_index": self.index, "_id": i} for i in sorted(ids))
        self.summary.deleted += len(gone)

    def _changed(self, batch: list[tuple[Article, list[Entities]]]) -> Iterator[dict[str, object]]:
        replaced = [article.id for article, _ in batch if article.id in self.indexed]
        old = paragraph_ids(self.client, self.index, replaced)
        for article, named in batch:
            paragraphs = split_paragraphs(article, named=named)
            if article.id in self.indexed:
                self.summary.replaced += 1
            else:
                self.summary.added += 1
            self.summary.articles += 1
            self.summary.paragraphs += len(paragraphs)
            new_ids = {p.id for p in paragraphs}
            for stale in sorted(old.get(article.id, set()) - new_ids):
                yield {"_op_type": "delete", "_index": self.index, "_id": stale}
            for paragraph in paragraphs:
                yield {"_op_type": "index", "_index": self.index, "_id": paragraph.id, "_source": document(paragraph)}


def update(client: OpenSearch, settings: OpenSearchSettings, sources: Iterable[Path],
           progress: Progress | None = None, wait: float = 0.0, entities: str = "rules",
           aliases: str = "") -> BuildSummary:
    """Add new articles, replace changed ones and delete those whose source is gone.

    Changed means another content hash. Gone means its source file no longer exists, or lies
    within the named sources but no longer holds it. Searches see the changes after a refresh
    (a second), article by article, not all at once.
    """
    started = time.monotonic()
    sources = [s.absolute() for s in sources]
    summary = BuildSummary(path=f"{settings.index} at {settings.where}")
    report = ReadReport()
    with build_lock(client, settings, wait):
        index = live_index(client, settings)
        indexed = call(settings, lambda: indexed_articles(client, index))
        names = call(settings, lambda: load_names(client, settings, index))
        work = _Update(client, index, indexed, summary, entities, progress, names, aliases)
        call(settings, lambda: bulk(client, work.actions(read_articles(sources, report), sources)))
        if summary.articles:
            call(settings, lambda: save_names(client, settings, index, names))
        summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
        summary.seconds = round(time.monotonic() - started, 3)
        call(settings, lambda: (
            client.indices.refresh(index=index),
            client.indices.put_mapping(index=index, body={"_meta": {**_meta(client, index), "updated_at": now()}}),
        ))
    log.info("updated %s: %d added, %d replaced, %d deleted, %d unchanged", index, summary.added,
             summary.replaced, summary.deleted, summary.unchanged)
    return summary


def _meta(client: OpenSearch, index: str) -> dict[str, object]:
    mapping = client.indices.get_mapping(index=index)
    return mapping[index]["mappings"].get("_meta", {})


def stats(client: OpenSearch, settings: OpenSearchSettings) -> dict[str, object]:
    """Paragraphs, size, build time of the live index, and the cluster's nodes and health."""
    index = live_index(client, settings)

    def read() -> dict[str, object]:
        store = client.indices.stats(index=index, metric="docs,store")["indices"][index]
        health = client.cluster.health(index=index)
        meta = _meta(client, index)
        return {
            "index": f"{settings.index} at {settings.where}",
            "generation": index,
            "paragraphs": store["primaries"]["docs"]["count"],
            "size_bytes": store["primaries"]["store"]["size_in_bytes"],
            "built_at": meta.get("built_at", ""),
            "updated_at": meta.get("updated_at", ""),
            "nodes": health["number_of_nodes"],
            "status": health["status"],
            "shards": health["active_primary_shards"],
            "replicas": health["active_shards"] - health["active_primary_shards"],
        }

    return call(settings, read)
