"""One immutable version of the index, and handing out the live one to requests.

A `Snapshot` owns everything of one version (a generation folder and one
table of contents in it): the schema and segments, per-thread Whoosh
searchers of exactly those segments, the scored term arrays, facet columns,
the word list, the highlighter's word cache and the sort ranks. A request
acquires one snapshot and uses nothing else, so no request ever pairs a
reader of one version with the state of another. `Snapshots` notices a new
version (a rebuild switches `current`; an update writes a new table of
contents) and opens a snapshot for it; the old one is closed when the last
request using it releases it (Lucene's `SearcherManager`, tantivy's `Searcher`).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

from ...errors import SearchIndexError
from ...search.facets import ARTICLE
from .facet_counts import FacetColumns, column_values
from .generations import live_generation, read_meta
from .lexicon import Lexicon
from .matching import Postings, sort_ranks
from .whoosh_compat import latest_toc_generation, open_reader, read_segments, toc_exists

log = logging.getLogger(__name__)

_LIBC = ctypes.CDLL(None)
REFRESH_SECONDS = 0.5  # how often a request checks whether a new version is live
Version = tuple[str, int]  # generation folder name, table-of-contents generation


class SnapshotGone(Exception):
    """The files of a retired version were removed before this thread first read them."""


class Snapshot:
    """One version of the index and everything read from it; shared by every thread."""

    def __init__(self, path: Path, generation: Path, toc_generation: int):
        started = time.perf_counter()
        self.path, self.generation = path, generation
        self.meta = read_meta(path, generation)
        self._storage = FileStorage(str(generation))
        self.schema, self._segments, toc = read_segments(self._storage, toc_generation)
        self.version: Version = (generation.name, toc)
        self._searchers: dict[int, Searcher] = {}
        # Searchers hold open files: close them when the snapshot goes, even if nobody closed it.
        weakref.finalize(self, _close_all, self._searchers)
        self._lock = threading.Lock()
        self.refs = 0
        self.retired = self.closed = False
        try:
            searcher = self.searcher()
            self.size = searcher.reader().doc_count_all()
            self.documents = searcher.doc_count()
            self.postings = Postings(self)
            self.columns = FacetColumns(searcher.reader())
        except BaseException:
            self.close()
            raise
        self.lexicon = Lexicon.load(generation)
        if not len(self.lexicon) and self.documents:
            log.warning("%s has no word list: prefixes and spelling suggestions find nothing; rebuild the index",
                        generation)
        self.word_terms = self.schema["text"].analyzer.word_terms  # shared by versions analysed alike
        self.titles: dict[str, str] = {}  # article id -> title, filled as the article facet shows them
        self._ranks: dict[str, np.ndarray] = {}
        self._first_paragraphs: np.ndarray | None = None
        self._articles: int | None = None
        log.info("opened %s (table %d): %d paragraphs in %.2f s", generation.name, toc, self.documents,
                 time.perf_counter() - started)

    def searcher(self) -> Searcher:
        """The calling thread's Whoosh searcher of this version (Whoosh's are not thread-safe)."""
        thread = threading.get_ident()
        searcher = self._searchers.get(thread)
        if searcher is None:
            try:
                reader = open_reader(self._storage, self.schema, self._segments, self.version[1])
            except FileNotFoundError:  # rebuilt twice since this request began: its files are gone
                raise SnapshotGone(self.generation.name) from None
            searcher = Searcher(reader)
            with self._lock:
                self._searchers[thread] = searcher
        return searcher

    def has_files(self) -> bool:
        """Whether this version's files are still there (an update removes those of a version
        replaced a minute before: a server idle through two updates may hold such a version)."""
        return toc_exists(self._storage, self.version[1])

    def close(self) -> None:
        with self._lock:
            self.closed = True
            _close_all(self._searchers)
        _return_free_memory()

    # -- what the search reads, made once per version ---------------------------------------

    def articles(self) -> int:
        """How many articles have a paragraph that is not deleted."""
        if self._articles is None:
            self._articles = len(self.columns.count(ARTICLE, self.postings.everything()))
        return self._articles

    def article_codes(self) -> np.ndarray:
        """Each document's article, as a number."""
        return self.columns.codes(ARTICLE).single_codes()

    def first_paragraph(self, article_id: str) -> int | None:
        """The document number of one live paragraph of the article."""
        if self._first_paragraphs is None:
            live = self.postings.everything()
            live = live[self.article_codes()[live] >= 0]
            firsts = np.full(len(self.columns.codes(ARTICLE).values), -1, dtype=np.int64)
            found, at = np.unique(self.article_codes()[live], return_index=True)
            firsts[found] = live[at]
            self._first_paragraphs = firsts
        code = self.columns.codes(ARTICLE).codes.get(article_id)
        return None if code is None or self._first_paragraphs[code] < 0 else int(self._first_paragraphs[code])

    def title(self, article_id: str) -> str:
        """An article's title (its id when it has none), read once."""
        if article_id not in self.titles:
            docnum = self.first_paragraph(article_id)
            stored = self.searcher().stored_fields(docnum) if docnum is not None else {}
            self.titles[article_id] = stored.get("title") or article_id
        return self.titles[article_id]

    def months(self, year: str) -> list[str]:
        """The months of a year that some paragraph was published in."""
        return [term.decode("utf-8") for term in self.searcher().reader().expand_prefix("month", f"{year}-")]

    def ranks(self, sort: str) -> np.ndarray:
        """Each document's place in a date sort: by date, then article, then position."""
        if sort not in self._ranks:
            reader = self.searcher().reader()
            _, published = np.unique(np.array(column_values(reader, "published"), dtype=str), return_inverse=True)
            position = np.array([int(p or 0) for p in column_values(reader, "position")], dtype=np.int64)
            newest = sort == "newest"
            self._ranks[sort] = sort_ranks(-published if newest else published, self.article_codes(), position)
        return self._ranks[sort]


def _return_free_memory() -> None:
    """Hand the heap a retired version freed back to the system (glibc keeps it per thread arena
    otherwise, and a worker's memory grew with every update: +31 % over 24 updates)."""
    try:
        _LIBC.malloc_trim(0)
    except AttributeError:  # not glibc
        pass


def _close_all(searchers: dict[int, Searcher]) -> None:
    for searcher in list(searchers.values()):
        searcher.close()
    searchers.clear()


class Snapshots:
    """The live snapshot of the index at `path`, opened anew when the version changes."""

    def __init__(self, path: Path, on_new_version: Callable[[], None] = lambda: None):
        self.path = Path(path)
        self._on_new_version = on_new_version  # called before a new version opens
        self._current: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()  # guards `_current` and reference counts
        self._opening = threading.Lock()  # one thread opens a new version; the others keep the old one
        self._switching = False  # a new version was noticed and is being opened: every request looks

    @contextmanager
    def acquire(self) -> Iterator[Snapshot]:
        """The live snapshot, held until the block ends."""
        while True:
            self._refresh()
            with self._lock:
                snapshot = self._current
                if snapshot is not None:
                    snapshot.refs += 1
                    break
            self._checked = 0.0  # closed meanwhile: open the index again
        try:
            yield snapshot
        finally:
            self._release(snapshot)

    def _release(self, snapshot: Snapshot) -> None:
        with self._lock:
            snapshot.refs -= 1
            done = snapshot.retired and snapshot.refs == 0
        if done:
            snapshot.close()

    def _live_version(self) -> tuple[Path, int]:
        generation = live_generation(self.path)
        return generation, latest_toc_generation(FileStorage(str(generation)))

    def _refresh(self) -> None:
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked < REFRESH_SECONDS and not self._switching:
            return
        self._checked = now
        generation, toc = self._live_version()
        if current is not None and current.version == (generation.name, toc):
            self._switching = False
            return
        self._switching = True
        # While another request opens the new version this one is served by the old, unless the
        # old one's files are gone: then it waits.
        if not self._opening.acquire(blocking=current is None or not current.has_files()):
            return
        try:
            current = self._current
            if current is None or current.version != (generation.name, toc):
                # What the old version cached goes first, so the new one reuses its memory.
                self._on_new_version()
                if current is not None:
                    current.postings.forget_terms()
                self._replace(self._open(generation, toc, current))
        finally:
            self._switching = False
            self._opening.release()

    def _open(self, generation: Path, toc: int, current: Snapshot | None) -> Snapshot:
        """A snapshot of the live version; while one is served, a version removed as it was
        being opened (rebuilt again at once) leaves the current one serving until the next look."""
        try:
            return Snapshot(self.path, generation, toc)
        except (FileNotFoundError, SearchIndexError) as error:
            if current is None or generation.exists():
                raise
            log.warning("%s was replaced while it was being opened (%s); still serving %s", generation.name,
                        error, current.generation.name)
            self._checked = 0.0
            return current

    def look_again(self) -> None:
        """Check for a new version at the next acquire."""
        self._checked = 0.0

    def _replace(self, snapshot: Snapshot | None) -> None:
        with self._lock:
            old, self._current = self._current, snapshot
            if old is None or old is snapshot:
                return
            old.retired = True
            done = old.refs == 0
        if snapshot is not None:
            log.info("switched from %s (table %d) to %s (table %d)", *old.version, *snapshot.version)
        if done:
            old.close()

    def close(self) -> None:
        """Close the live snapshot (when its requests end); the next acquire opens the index again."""
        self._replace(None)
        self._checked = 0.0
