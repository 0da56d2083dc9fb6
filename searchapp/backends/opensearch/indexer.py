"""Building and updating the OpenSearch index, and its statistics.

A build fills a new physical index `<alias>-<timestamp>` (no refreshes, no replicas while it
fills), turns on refreshes and replicas, then moves the alias to it in one `_aliases` request
(atomic: a search sees the old index or the new one) and deletes the index the alias left.
Indices named like ours that no alias points at are left by a build that died; the next build
deletes them. One build or update at a time: a lock index `<alias>.build-lock` exists while one
runs (index creation either succeeds or fails, never both), naming its holder.

People, places and organisations take the names the whole archive knows, as in the embedded
build: a first pass finds every article's names and counts them (`EntityNames`), a
`Canonicalizer` of those counts (and the aliases) then names them in the documents sent. The
counts are kept for updates as one document per physical index in `<alias>.entity-names`.

An update changes the live index in place: articles whose content hash changed have their
paragraphs replaced, new ones are added, those whose source is gone are deleted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as os_errors

from ...articles import Article, ReadReport, unique_articles
from ...entities import Entities, EntityNames, load_aliases
from ...errors import IndexLocked, IndexMissing
from ...paragraphs import article_entities, split_paragraphs
from ..base import BuildSummary, Progress
from .connection import ClusterRefused, OpenSearchSettings, call
from .mapping import SERVING_SETTINGS, document, index_body

log = logging.getLogger(__name__)

BULK_DOCUMENTS = 500
BULK_TIMEOUT = 120.0
ARTICLES_PER_BATCH = 200  # articles whose old paragraphs are looked up at once in an update
GREEN_SECONDS = 60
NAMES_SUFFIX = ".entity-names"  # the index holding each physical index's entity name counts


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def physical_name(alias: str) -> str:
    """A new physical index name: the alias and a UTC timestamp to the microsecond."""
    return f"{alias}-{datetime.now(UTC).strftime('%Y%m%dt%H%M%S%f')}"


def _ours(alias: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(alias)}-\d{{8}}t\d{{12}}")


def aliased(client: OpenSearch, alias: str) -> list[str]:
    """The physical indices the alias points at (one, or none before the first build)."""
    found = client.indices.get_alias(name=alias, ignore=404)  # 404: no such alias yet, not an error
    return sorted(name for name in found if name not in ("error", "status"))


def live_index(client: OpenSearch, settings: OpenSearchSettings) -> str:
    found = call(settings, lambda: aliased(client, settings.index))
    if not found:
        raise IndexMissing(f"OpenSearch index {settings.index!r} at {settings.where}")
    return found[0]


def remove_leftovers(client: OpenSearch, settings: OpenSearchSettings) -> list[str]:
    """Delete the indices named like ours that the alias does not point at."""
    pattern = _ours(settings.index)
    live = set(aliased(client, settings.index))
    names = client.indices.get(index=f"{settings.index}-*", expand_wildcards="open,closed", ignore_unavailable=True)
    leftovers = sorted(name for name in names if pattern.fullmatch(name) and name not in live)
    for name in leftovers:
        log.info("deleting %s, left by an earlier build", name)
        client.indices.delete(index=name)
    return leftovers


# --- the lock --------------------------------------------------------------------------


def _holder() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": now()}


def _dead_here(holder: dict[str, object]) -> bool:
    """Whether the holder ran on this host and its process is gone."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def build_lock(client: OpenSearch, settings: OpenSearchSettings, wait: float = 0.0) -> Iterator[None]:
    """Hold `<alias>.build-lock` for the duration; a lock left by a dead process on this host is taken over."""
    name = f"{settings.index}.build-lock"
    body = {"settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}},
            "mappings": {"_meta": _holder()}}
    deadline = time.monotonic() + wait
    while True:
        try:
            call(settings, lambda: client.indices.create(index=name, body=body))
            break
        except os_errors.RequestError as error:
            if "resource_already_exists_exception" not in str(error.error):
                raise
            holder = _lock_holder(client, name)
            if _dead_here(holder):
                log.warning("taking over %s from process %s, which is gone", name, holder.get("pid"))
                client.indices.delete(index=name, ignore_unavailable=True)
                continue
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"OpenSearch index {settings.index!r}",
                    f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}; "
                    f"if it is dead, delete the index {name}",
                ) from None
            time.sleep(0.5)
    try:
        yield
    finally:
        call(settings, lambda: client.indices.delete(index=name, ignore_unavailable=True))


def _lock_holder(client: OpenSearch, name: str) -> dict[str, object]:
    try:
        mapping = client.indices.get_mapping(index=name)
    except os_errors.NotFoundError:
        return {}
    return next(iter(mapping.values()), {}).get("mappings", {}).get("_meta", {})


# --- build -------------------------------------------------------------------------------


def save_names(client: OpenSearch, settings: OpenSearchSettings, index: str, names: EntityNames) -> None:
    """Keep the archive's entity name counts of physical `index`, for updates."""
    store = f"{settings.index}{NAMES_SUFFIX}"
    client.indices.create(index=store, ignore=400, body={  # 400: it exists
        "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
        "mappings": {"dynamic": False, "properties": {}}})
    client.index(index=store, id=index, body={"counts": json.dumps(names.to_json())}, refresh=True)


def load_names(client: OpenSearch, settings: OpenSearchSettings, index: str) -> EntityNames:
    """The entity name counts kept for physical `index` (none, logged, if there are none)."""
    found = client.get(index=f"{settings.index}{NAMES_SUFFIX}", id=index, ignore=404)
    if not found.get("found"):
        log.warning("no entity name counts kept for %s: new names are canonical among the update's articles", index)
        return EntityNames()
    return EntityNames.from_json(json.loads(found["_source"]["counts"]))


def named_articles(articles: Iterable[Article], entities: str, aliases: str, progress: Progress | None,
                   names: EntityNames) -> list[tuple[Article, list[Entities]]]:
    """Every article with its paragraphs' names, canonical across all of them and those `names`
    counts (two passes); their names are added to `names`."""
    found: list[tuple[Article, list[Entities]]] = []
    for article in articles:
        named = article_entities(article, entities)
        names.add_article(named, article.source)
        found.append((article, named))
        if progress:
            progress(article)
    if not found:
        return []
    canonical = names.canonicalizer(load_aliases(aliases or None))
    return [(article, [canonical.apply(e, article.source) for e in named]) for article, named in found]


def _index_actions(index: str, articles: Iterable[tuple[Article, list[Entities]]],
                   summary: BuildSummary) -> Iterator[dict[str, object]]:
    for article, named in articles:
        paragraphs = split_paragraphs(article, named=named)
        summary.articles += 1
        summary.paragraphs += len(paragraphs)
        for paragraph in paragraphs:
            yield {"_op_type": "index", "_index": index, "_id": paragraph.id, "_source": document(paragraph)}


def bulk(client: OpenSearch, actions: Iterable[dict[str, object]]) -> None:
    """Send `actions` in bulk requests; a document the cluster refuses stops the build with its reason."""
    try:
        for _ in helpers.streaming_bulk(client, actions, chunk_size=BULK_DOCUMENTS, max_retries=2,
                                        raise_on_error=True, request_timeout=BULK_TIMEOUT):
            pass
    except helpers.BulkIndexError as error:
        refused = error.errors
        raise ClusterRefused(f"OpenSearch refused {len(refused)} documents; the first: {refused[0]}") from None


def _check_alias_name(client: OpenSearch, settings: OpenSearchSettings) -> None:
    if client.indices.exists(index=settings.index) and not client.indices.exists_alias(name=settings.index):
        raise ClusterRefused(
            f"{settings.index!r} at {settings.where} is an index, not an alias: choose another "
            "SEARCHAPP_OPENSEARCH_INDEX or delete that index"
        )


def build(client: OpenSearch, settings: OpenSearchSettings, sources: Iterable[Path],
          progress: Progress | None = None, wait: float = 0.0, entities: str = "rules",
          aliases: str = "") -> BuildSummary:
    """Build a new physical index from `sources` and move the alias to it."""
    started = time.monotonic()
    sources = list(sources)
    summary = BuildSummary(path=f"{settings.index} at {settings.where}")
    report = ReadReport()
    with build_lock(client, settings, wait):
        call(settings, lambda: (_check_alias_name(client, settings), remove_leftovers(client, settings)))
        name = physical_name(settings.index)
        meta = {"sources": [str(s.absolute()) for s in sources], "started_at": now()}
        call(settings, lambda: client.indices.create(index=name, body=index_body(settings.shards, meta)))
        try:
            names = EntityNames()
            articles = named_articles(unique_articles(sources, report), entities, aliases, progress, names)
            call(settings, lambda: bulk(client, _index_actions(name, articles, summary)))
            if articles:
                call(settings, lambda: save_names(client, settings, name, names))
            summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
            summary.seconds = round(time.monotonic() - started, 3)
            if summary.articles == 0:  # nothing to serve: the live index stays
                call(settings, lambda: client.indices.delete(index=name))
                return summary
            call(settings, lambda: _make_live(client, settings, name, summary))
        except BaseException:
            _delete_quietly(client, name)
            raise
    log.info("built %s: %d articles, %d paragraphs in %.1f s", name, summary.articles, summary.paragraphs,
             summary.seconds)
    return summary


def _make_live(client: OpenSearch, settings: OpenSearchSettings, name: str, summary: BuildSummary) -> None:
    client.indices.put_settings(index=name, body=SERVING_SETTINGS)
    client.indices.refresh(index=name)
    client.indices.put_mapping(index=name, body={"_meta": {
        "built_at": now(), "articles": summary.articles, "paragraphs": summary.paragraphs,
        "seconds": summary.seconds, "skipped": summary.skipped[:100],
    }})
    # request_timeout too: without it the client takes `timeout` (the wait) as its own.
    health = client.cluster.health(index=name, wait_for_status="green", timeout=f"{GREEN_SECONDS}s",
                                   request_timeout=GREEN_SECONDS + 10)
    if health.get("timed_out"):
        log.warning("%s is %s, not green, after %d s; switching to it anyway", name, health.get("status"),
                    GREEN_SECONDS)
    old = aliased(client, settings.index)
    actions = [{"remove": {"index": index, "alias": settings.index}} for index in old]
    actions.append({"add": {"index": name, "alias": settings.index}})
    client.indices.update_aliases(body={"actions": actions})
    for index in old:
        client.indices.delete(index=index)
        client.delete(index=f"{settings.index}{NAMES_SUFFIX}", id=index, ignore=404)


def _delete_quietly(client: OpenSearch, name: str) -> None:
    """Delete a half-built index; what cannot be deleted now the next build removes."""
    try:
        client.indices.delete(index=name, ignore_unavailable=True)
    except os_errors.OpenSearchException as error:
        log.warning("could not delete the unfinished %s (the next build will): %s", name, error)
