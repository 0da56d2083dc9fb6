"""The Whoosh index: schema, build, update, the atomic switch, the writer lock.

Layout of an index folder::

    INDEX/
      current -> gen-20261125T033000-4242   symbolic link, switched atomically
      gen-…/                                a complete Whoosh index + searchapp.json
      build-…/                              a build in progress (or left by a killed one)
      .lock                                 flock(2): one writer at a time

A build writes a complete new generation beside the live one and then swaps
the `current` link with one rename, so a reader sees the old index or the new
one, never an empty or half-written one. The lock is an flock, which the
kernel drops when its holder dies: a killed build never blocks the next.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from whoosh import index as whoosh_index
import Stemmer
from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.searching import Searcher

from .articles import Article, ReadReport, read_articles
from .lexicon import WORD_PATTERN, Lexicon, words_of
from .paragraphs import Paragraph, split_paragraphs

log = logging.getLogger(__name__)

CURRENT = "current"
LOCK_FILE = ".lock"
META_FILE = "searchapp.json"
GENERATIONS_KEPT = 2
REFRESH_SECONDS = 0.5

TOPIC_SEPARATOR = ";"  # in sources; the index keeps multi-valued fields comma-separated
ENTITY_FIELDS = ("people", "places", "organisations")


class SearchIndexError(Exception):
    """Base for the index errors the CLI and web show as one clear line."""


class IndexMissing(SearchIndexError):
    def __init__(self, path: Path):
        super().__init__(f"there is no index at {path}: run `searchapp index build` first")


class IndexLocked(SearchIndexError):
    def __init__(self, path: Path, holder: str):
        super().__init__(
            f"another build or update is running on {path} ({holder}); "
            "wait for it to finish, or pass --wait SECONDS"
        )


class NewsAnalyzer(Tokenizer):
    """Words lower-cased, common stop words dropped, stemmed by Snowball (PyStemmer, in C).

    What `RegexTokenizer | LowercaseFilter | StopFilter | PyStemmerFilter` does,
    in one loop instead of four generators per token: analysis is most of the
    time of a build. Stored in the index's schema, so keep this name importable.
    """

    is_morph = True
    CACHE_SIZE = 200_000

    def __init__(self, stoplist: Iterable[str] = STOP_WORDS, minsize: int = 2):
        self.stoplist = frozenset(stoplist)
        self.minsize = minsize
        self._prepare()

    def _prepare(self) -> None:
        self._pattern = re.compile(WORD_PATTERN)
        self._stem_word = Stemmer.Stemmer("english").stemWord
        self._stems: dict[str, str] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"stoplist": self.stoplist, "minsize": self.minsize}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._prepare()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer) and self.__getstate__() == other.__getstate__()

    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            if len(self._stems) >= self.CACHE_SIZE:
                self._stems.clear()
            stem = self._stems[word] = self._stem_word(word)
        return stem

    def __call__(self, value: str, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = self._pattern.finditer(value) if tokenize else [re.match(r".*", value, re.S)]
        kept = None  # position of the last word kept: numbered as Whoosh's StopFilter(renumber=True) does
        for raw, match in enumerate(matches, start=start_pos):
            word = match.group().lower()
            stopped = len(word) < self.minsize or word in self.stoplist
            if stopped and removestops:
                continue
            token.text = word if stopped else self._stem(word)
            token.stopped = stopped
            token.boost = 1.0
            if keeporiginal:
                token.original = match.group()
            if positions:
                if stopped:
                    token.pos = raw
                else:
                    token.pos = kept = raw if kept is None else kept + 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


def stemming_analyzer() -> NewsAnalyzer:
    return NewsAnalyzer()


def _many_values() -> KEYWORD:
    """A multi-valued facet: comma-separated values, each a term, the whole in a column."""
    return KEYWORD(stored=True, sortable=True, commas=True, lowercase=False, scorable=False)


def make_schema() -> Schema:
    facet = dict(stored=True, sortable=True)
    return Schema(
        id=ID(stored=True, unique=True),
        article_id=ID(**facet),
        title=TEXT(stored=True, analyzer=stemming_analyzer(), field_boost=2.0),
        text=TEXT(stored=True, analyzer=stemming_analyzer()),
        author=ID(**facet),
        source=ID(**facet),
        topic=_many_values(),
        people=_many_values(),
        places=_many_values(),
        organisations=_many_values(),
        section=ID(**facet),
        kind=ID(**facet),
        published=ID(**facet),
        month=ID(sortable=True),
        position=NUMERIC(stored=True, sortable=True),
        url=STORED(),
        credit=STORED(),
        origin=ID(stored=True),
        article_hash=STORED(),
    )


def _joined(values) -> str:
    return ",".join(v.replace(",", " ").strip() for v in values if v.strip())


def index_document(paragraph: Paragraph) -> dict[str, object]:
    """The Whoosh fields of one paragraph."""
    doc = paragraph.to_dict()
    doc["month"] = paragraph.published[:7]
    doc["topic"] = _joined(paragraph.topic.split(TOPIC_SEPARATOR))
    for name in ENTITY_FIELDS:
        doc[name] = _joined(getattr(paragraph, name))
    return {key: value for key, value in doc.items() if value != ""}


# --- generations and the switch ------------------------------------------------


def _current_link(path: Path) -> Path:
    return path / CURRENT


def current_generation(path: Path) -> Path | None:
    """The folder of the live generation, or None when nothing has been built."""
    try:
        target = os.readlink(_current_link(path))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return path / target


def _new_generation_name(prefix: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return f"{prefix}-{stamp}-{os.getpid()}"


def _switch_to(path: Path, generation: Path) -> None:
    """Point `current` at `generation` with one atomic rename."""
    temporary = path / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(generation.name, temporary)
    os.replace(temporary, _current_link(path))
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(path: Path) -> None:
    """Delete unfinished builds and all but the newest generations.

    Runs under the writer lock, so every `build-*` folder is a dead build's.
    The previous generation is kept for readers that still have it open.
    """
    for leftover in path.glob("build-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for stray in path.glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)
    _remove_old_generations(path, GENERATIONS_KEPT)


def _remove_old_generations(path: Path, keep: int) -> None:
    """Delete generations but the live one and the newest others, `keep` in all.

    A generation newer than the live one was left by a build killed before its
    switch; it is kept only if there is room.
    """
    live = current_generation(path)
    others = sorted((g for g in path.glob("gen-*") if g != live), key=lambda p: p.name, reverse=True)
    for old in others[max(0, keep - (live is not None)):]:
        shutil.rmtree(old, ignore_errors=True)


# --- the writer lock -------------------------------------------------------------


@contextmanager
def writer_lock(path: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; raise `IndexLocked` if it stays held for `wait` seconds."""
    path.mkdir(parents=True, exist_ok=True)
    lock_path = path / LOCK_FILE
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise IndexLocked(path, holder) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {datetime.now(timezone.utc):%H:%M:%S} UTC")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- build and update --------------------------------------------------------------


@dataclass
class BuildSummary:
    articles: int = 0
    paragraphs: int = 0
    added: int = 0
    replaced: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    path: str = ""

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


Progress = Callable[[Article], None]


def _write_meta(generation: Path, meta: dict[str, object]) -> None:
    temporary = generation / f"{META_FILE}.tmp"
    temporary.write_text(json.dumps(meta, indent=2))
    os.replace(temporary, generation / META_FILE)


def read_meta(generation: Path) -> dict[str, object]:
    try:
        return json.loads((generation / META_FILE).read_text())
    except (OSError, ValueError):
        return {}


class LengthsReader(W3PerDocReader):
    """Whoosh's per-document reader, remembering which fields have no lengths column.

    Whoosh asks for a field's length at every posting it writes; for a field
    without lengths (IDs, keywords) each ask was a stat() of
    a file that does not exist: a third of the time of a build.
    """

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._missing: set[str] = set()

    def _cached_reader(self, fieldname, column):
        if fieldname in self._missing:
            return None
        reader = super()._cached_reader(fieldname, column)
        if reader is None:
            self._missing.add(fieldname)
        return reader


class SearchappCodec(W3Codec):
    """Whoosh's codec with `LengthsReader`; segments keep it, so keep this name importable."""

    def per_document_reader(self, storage, segment):
        return LengthsReader(storage, segment)


def _writer_args() -> dict[str, object]:
    """Plain (not compound) segment files: a reader of a compound segment copies its
    postings into memory, tens of MB per worker process."""
    return {"limitmb": 256, "compound": False, "codec": SearchappCodec()}


def _writer(ix: whoosh_index.Index, procs: int):
    if procs > 1:
        return ix.writer(procs=procs, multisegment=True, subargs=_writer_args(), **_writer_args())
    return ix.writer(**_writer_args())


def build_index(
    path: Path,
    sources: Iterable[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
    procs: int = 1,
    entities: str = "rules",
) -> BuildSummary:
    """Build a complete new index from `sources` and switch to it atomically."""
    started = time.monotonic()
    sources = list(sources)
    with writer_lock(path, wait):
        _remove_stale(path)
        staging = path / _new_generation_name("build")
        staging.mkdir()
        ix = whoosh_index.create_in(staging, make_schema())
        summary = BuildSummary(path=str(path))
        report = ReadReport()
        writer = _writer(ix, procs)
        lexicon = Lexicon()
        try:
            seen: set[str] = set()
            for article in read_articles(sources, report):
                if article.id in seen:
                    report.skip(article.origin, f"article id {article.id!r} appears twice; the first is kept")
                    continue
                seen.add(article.id)
                _add_article(writer, article, summary, entities, lexicon)
                if progress:
                    progress(article)
        except BaseException:
            writer.cancel()
            ix.close()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        writer.commit()
        ix.close()
        lexicon.seal().save(staging)
        summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
        summary.seconds = round(time.monotonic() - started, 3)
        if summary.articles == 0:  # nothing to serve: the live index stays
            shutil.rmtree(staging, ignore_errors=True)
            return summary
        _write_meta(staging, {
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sources": [str(s.absolute()) for s in sources],
            "articles": summary.articles,
            "paragraphs": summary.paragraphs,
            "skipped": summary.skipped,
            "seconds": summary.seconds,
        })
        # Make room first, so that a kill before the switch leaves at most GENERATIONS_KEPT.
        _remove_old_generations(path, GENERATIONS_KEPT - 1)
        generation = staging.rename(path / staging.name.replace("build-", "gen-", 1))
        _fsync_dir(path)
        _switch_to(path, generation)
        _remove_stale(path)
    return summary


def _add_article(writer, article: Article, summary: BuildSummary, entities: str, lexicon: Lexicon) -> None:
    paragraphs = split_paragraphs(article, entities)
    for paragraph in paragraphs:
        writer.add_document(**index_document(paragraph))
        lexicon.add(words_of(paragraph.title, paragraph.text))
    summary.articles += 1
    summary.paragraphs += len(paragraphs)


def _indexed_articles(ix: whoosh_index.Index) -> dict[str, tuple[str, str]]:
    """article id -> (content hash, origin) of every article in the index."""
    indexed: dict[str, tuple[str, str]] = {}
    with ix.searcher() as searcher:
        for fields in searcher.reader().all_stored_fields():
            indexed.setdefault(fields["article_id"], (fields.get("article_hash", ""), fields.get("origin", "")))
    return indexed


def _within(origin: str, sources: list[Path]) -> bool:
    path = Path(origin)
    return any(path == source or source in path.parents for source in sources)


def update_index(
    path: Path,
    sources: Iterable[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
    entities: str = "rules",
) -> BuildSummary:
    """Add new articles, replace changed ones and delete those whose source is gone.

    An article is changed when its content hash differs. An indexed article is
    gone when its source file no longer exists, or when its file lies within
    the named sources but no longer holds it.
    """
    started = time.monotonic()
    sources = [s.absolute() for s in sources]
    with writer_lock(path, wait):
        generation = current_generation(path)
        if generation is None:
            raise IndexMissing(path)
        ix = whoosh_index.open_dir(generation)
        indexed = _indexed_articles(ix)
        summary = BuildSummary(path=str(path))
        report = ReadReport()
        writer = ix.writer(**_writer_args())
        lexicon = Lexicon.load(generation)
        try:
            seen: set[str] = set()
            for article in read_articles(sources, report):
                if article.id in seen:
                    continue
                seen.add(article.id)
                _apply_change(writer, article, indexed.get(article.id), summary, entities, lexicon)
                if progress:
                    progress(article)
            for article_id, (_, origin) in indexed.items():
                if article_id not in seen and (not Path(origin).exists() or _within(origin, sources)):
                    writer.delete_by_term("article_id", article_id)
                    summary.deleted += 1
        except BaseException:
            writer.cancel()
            ix.close()
            raise
        # Words only ever get added, so the word list is saved first: a reader that sees the
        # new documents finds their words too. Words of deleted articles stay until a rebuild.
        lexicon.seal().save(generation)
        writer.commit(optimize=False)
        ix.close()
        summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
        summary.seconds = round(time.monotonic() - started, 3)
        meta = read_meta(generation)
        meta["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _write_meta(generation, meta)
    return summary


def _apply_change(
    writer, article: Article, indexed: tuple[str, str] | None, summary: BuildSummary, entities: str,
    lexicon: Lexicon,
) -> None:
    if indexed is not None and indexed[0] == article.content_hash:
        summary.unchanged += 1
        return
    if indexed is not None:
        writer.delete_by_term("article_id", article.id)
        summary.replaced += 1
    else:
        summary.added += 1
    _add_article(writer, article, summary, entities, lexicon)


# --- reading ------------------------------------------------------------------------


def open_index(path: Path) -> whoosh_index.Index:
    """The live generation's Whoosh index; raises `IndexMissing` if none was built."""
    return open_generation(path, current_generation(path))


def open_generation(path: Path, generation: Path | None) -> whoosh_index.Index:
    """The Whoosh index of one generation of the index at `path`."""
    if generation is None or not whoosh_index.exists_in(generation):
        raise IndexMissing(path)
    return whoosh_index.open_dir(generation)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class IndexHandle:
    """One shared index per process, one searcher per thread, refreshed when the index changes.

    A request asks `searcher()`; at most every REFRESH_SECONDS the handle checks
    whether `current` points elsewhere (a rebuild) or Whoosh has a newer
    generation (an update), and only then opens a new searcher.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._generation: Path | None = None
        self._index: whoosh_index.Index | None = None
        self._open: set[Searcher] = set()
        # Searchers hold open files: close them when the handle goes, before the files do.
        weakref.finalize(self, _close_all, self._open)

    def _open_current(self) -> whoosh_index.Index:
        with self._lock:
            generation = current_generation(self.path)
            if self._index is None or generation != self._generation:
                # The generation read once: a switch in between must not pair one name with another index.
                self._index, self._generation = open_generation(self.path, generation), generation
            return self._index

    def searcher(self) -> Searcher:
        local = self._local
        now = time.monotonic()
        searcher: Searcher | None = getattr(local, "searcher", None)
        if searcher is not None and now - getattr(local, "checked", 0.0) < REFRESH_SECONDS:
            return searcher
        local.checked = now
        ix = self._open_current()
        if searcher is None or getattr(local, "index", None) is not ix or not searcher.up_to_date():
            # Never searcher.refresh(): Whoosh reuses segment readers with their old deletions
            # and keeps merged-away segments, so an update would show replaced paragraphs twice.
            local.searcher, local.index = ix.searcher(), ix
            with self._lock:
                self._open.add(local.searcher)
                if searcher is not None:
                    self._open.discard(searcher)
            if searcher is not None:
                searcher.close()  # this thread's request that used it is over
        return local.searcher

    def close(self) -> None:
        """Close every searcher this handle opened (the handle opens new ones if used again)."""
        with self._lock:
            self._index = self._generation = None
            _close_all(self._open)
        self._local = threading.local()

    @property
    def generation(self) -> Path | None:
        return self._generation


def _close_all(searchers: set[Searcher]) -> None:
    for searcher in list(searchers):
        searcher.close()
    searchers.clear()


def index_stats(path: Path) -> dict[str, object]:
    """Paragraphs, size on disk and build time of the live generation."""
    generation = current_generation(path)
    ix = open_generation(path, generation)
    meta = read_meta(generation)
    try:
        paragraphs = ix.doc_count()
    finally:
        ix.close()
    return {
        "index": str(path),
        "generation": generation.name,
        "paragraphs": paragraphs,
        "size_bytes": folder_size(generation),
        "built_at": meta.get("built_at", ""),
        "updated_at": meta.get("updated_at", ""),
    }
