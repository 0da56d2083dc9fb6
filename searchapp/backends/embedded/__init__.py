"""The embedded engine: a Whoosh-format index in a folder, searched on numpy arrays.

`EmbeddedBackend` is what web and CLI use; it hands each request one
`Snapshot` of the live version (see `snapshot.py`) and keeps an LRU cache of
result pages per version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from ...errors import IndexMissing, SearchIndexError
from ...search.records import ArticleView, Limits, SearchPage, SearchRequest, clean_query_text
from ...search.tolerance import QueryOptions
from ..base import BuildSummary, Progress
from . import engine
from .build import DEFAULT_PROCS, build_index
from .generations import folder_size, live_generation, read_meta
from .snapshot import Snapshot, SnapshotGone, Snapshots
from .update import update_index

log = logging.getLogger(__name__)

SLOW_SEARCH_SECONDS = 0.5  # searches slower than this are logged
RETRIES = 3  # snapshots tried when a retired one's files are gone
T = TypeVar("T")


class EmbeddedBackend:
    """The index in one folder; safe to share across threads."""

    def __init__(self, index_path: Path | str, limits: Limits = Limits(), cache_size: int = 256,
                 entities: str = "rules", options: QueryOptions = QueryOptions(), entity_aliases: str = ""):
        self.path = Path(index_path)
        self.limits = limits
        self.options = options
        self.entities = entities
        self.entity_aliases = entity_aliases
        self.snapshots = Snapshots(self.path, on_new_version=self._forget_pages)
        self._cache: OrderedDict[tuple, SearchPage] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def _on_snapshot(self, work: Callable[[Snapshot], T]) -> T:
        """`work` on the live snapshot; again on a newer one if this one's files went first."""
        for _ in range(RETRIES):
            with self.snapshots.acquire() as snap:
                try:
                    return work(snap)
                except SnapshotGone:
                    log.info("%s was removed under a request; trying the live version", snap.generation.name)
                    self.snapshots.look_again()
        raise SearchIndexError(f"the index at {self.path} was rebuilt faster than it could be read; try again")

    def search(self, request: SearchRequest) -> SearchPage:
        started = time.perf_counter()
        key, page, cached = self._on_snapshot(lambda snap: self._search_on(snap, request))
        if cached:
            return page
        seconds = time.perf_counter() - started
        if seconds > SLOW_SEARCH_SECONDS:
            log.warning("slow search: %.2f s for %r (page %d, %d filters)%s", seconds, request.q[:100],
                        request.page, len(request.filters), ", timed out" if page.timed_out else "")
        page = replace(page, seconds=round(seconds, 4))
        self._remember(key, page)
        return page

    def _search_on(self, snap: Snapshot, request: SearchRequest) -> tuple[tuple, SearchPage, bool]:
        """(cache key, page, whether it came from the cache) of `request` on one snapshot."""
        key = (snap.version, request)
        cached = self._cached(key)
        if cached is not None:
            return key, cached, True
        return key, engine.search(snap, request, self.limits.time_limit, self.options), False

    def article(self, article_id: str, q: str = "") -> ArticleView:
        """The whole article, its paragraphs in order, the query's words marked."""
        q = clean_query_text(q)[: self.limits.max_query_length]
        return self._on_snapshot(lambda snap: engine.article(snap, article_id, q, self.options))

    def overview(self) -> SearchPage:
        return self.search(SearchRequest(per_page=1))

    def info(self) -> dict[str, object]:
        with self.snapshots.acquire() as snap:
            return {
                "documents": snap.documents,
                "built_at": snap.meta.get("built_at", ""),
                "updated_at": snap.meta.get("updated_at", ""),
                "generation": snap.generation.name,
            }

    def warm(self) -> None:
        """Open the index and read the facet columns now, so the first visitor does not wait."""
        try:
            self.overview()
        except IndexMissing:
            log.info("no index at %s to warm up yet", self.path)

    def close(self) -> None:
        """Close the open snapshot; the next search opens the index again."""
        self.snapshots.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _cached(self, key: tuple) -> SearchPage | None:
        with self._cache_lock:
            page = self._cache.get(key)
            if page is not None:
                self._cache.move_to_end(key)
            return page

    def _forget_pages(self) -> None:
        """Drop the cached pages before a new version opens: they are never asked for again, and
        freed first, their memory holds the new version instead of growing the heap by as much."""
        with self._cache_lock:
            self._cache.clear()

    def _remember(self, key: tuple, page: SearchPage) -> None:
        if self._cache_size <= 0 or page.timed_out:
            return
        with self._cache_lock:
            if self._cache and next(iter(self._cache))[0] != key[0]:
                self._cache.clear()  # pages of an older version are never asked for again
            self._cache[key] = page
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    # -- writing -------------------------------------------------------------------------

    def build(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0,
              procs: int | None = None) -> BuildSummary:
        return build_index(self.path, sources, progress, wait, procs or DEFAULT_PROCS, self.entities,
                           self.entity_aliases)

    def update(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0) -> BuildSummary:
        return update_index(self.path, sources, progress, wait, self.entities, self.entity_aliases)

    def stats(self) -> dict[str, object]:
        """Where the index is, its paragraphs, size on disk and times."""
        generation = live_generation(self.path)
        meta = read_meta(self.path, generation)
        with self.snapshots.acquire() as snap:
            paragraphs = snap.documents
        return {
            "index": str(self.path),
            "generation": generation.name,
            "paragraphs": paragraphs,
            "size_bytes": folder_size(generation),
            "built_at": meta.get("built_at", ""),
            "updated_at": meta.get("updated_at", ""),
        }
