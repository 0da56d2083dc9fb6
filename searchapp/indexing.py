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

import ctypes
import fcntl
import gc
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing import connection
from pathlib import Path

from whoosh import index as whoosh_index
import Stemmer
from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

from .articles import Article, ReadReport, count_articles, read_articles
from .lexicon import WORD_PATTERN, Lexicon, distinct_words, words_of
from .paragraphs import Paragraph, split_paragraphs
from .segments import INDEX_NAME, SegmentBuilder
from .term_arrays import write_term_arrays

log = logging.getLogger(__name__)

CURRENT = "current"
LOCK_FILE = ".lock"
META_FILE = "searchapp.json"
GENERATIONS_KEPT = 2
REFRESH_SECONDS = 0.5

DEFAULT_PROCS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
ARTICLES_PER_PROCESS = 500  # a build of fewer articles per process stays in one: starting one costs ~0.2 s
BATCH_ARTICLES = 32  # articles sent to a worker process at a time
# What indexing costs beside the text, in characters of text (measured on BBC and Reuters).
PARAGRAPH_WEIGHT, ARTICLE_WEIGHT = 60, 350
PR_SET_PDEATHSIG = 1  # prctl(2)

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
        self._index_stems = _StemCache(self)

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

    def words(self, value: str) -> list[str]:
        """The lower-cased words of `value`, as `__call__` finds them."""
        if value.isascii():
            return self._pattern.findall(value.lower())
        return [word.lower() for word in self._pattern.findall(value)]  # lower-casing first could change them

    def term_positions(self, value: str, words: list[str] | None = None) -> tuple[dict[str, int | list[int]], int]:
        """Each term of `value` (whose `words` the caller may have) with its position, a list when
        it occurs more than once, and the number of words kept.

        What indexing gets from `__call__`, without a Token per word: the
        words, their stems and the first occurrences go through C loops.
        """
        stems = self._index_stems
        if len(stems) >= self.CACHE_SIZE:
            stems.clear()
        all_stems = list(map(stems.__getitem__, self.words(value) if words is None else words))
        kept = [stem for stem in all_stems if stem]
        if not kept:
            return {}, 0
        first = all_stems.index(kept[0])  # positions count on from the first word kept, as StopFilter renumbers
        found: dict[str, int | list[int]] = dict(zip(kept, range(first, first + len(kept))))
        if len(found) < len(kept):
            found = _positions_of_repeated(kept, first)
        return found, len(kept)

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


class _StemCache(dict):
    """word -> stem, or "" for a stop word; computed on first sight."""

    def __init__(self, analyzer: NewsAnalyzer):
        super().__init__()
        self._analyzer = analyzer

    def __missing__(self, word: str) -> str:
        analyzer = self._analyzer
        stopped = len(word) < analyzer.minsize or word in analyzer.stoplist
        stem = self[word] = "" if stopped else analyzer._stem_word(word)
        return stem


def _positions_of_repeated(terms: list[str], first: int) -> dict[str, int | list[int]]:
    found: dict[str, int | list[int]] = {}
    for position, term in enumerate(terms, first):
        seen = found.get(term)
        if seen is None:
            found[term] = position
        elif seen.__class__ is int:
            found[term] = [seen, position]
        else:
            seen.append(position)
    return found


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


def build_index(
    path: Path,
    sources: Iterable[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
    procs: int = DEFAULT_PROCS,
    entities: str = "rules",
) -> BuildSummary:
    """Build a complete new index from `sources` and switch to it atomically.

    Up to `procs` processes build a segment each from a run of the articles
    (see `_segments_in_workers`); a small build stays in one.
    """
    started = time.monotonic()
    sources = list(sources)
    with writer_lock(path, wait):
        _remove_stale(path)
        staging = path / _new_generation_name("build")
        staging.mkdir()
        summary = BuildSummary(path=str(path))
        report = ReadReport()
        try:
            whoosh_index.create_in(staging, make_schema()).close()
            articles = _unique_articles(sources, report)
            processes = min(procs, count_articles(sources) // ARTICLES_PER_PROCESS)
            if processes > 1:
                parts = _segments_in_workers(staging, articles, processes, entities, progress)
            else:
                parts = [_segment_here(staging, articles, entities, progress)]
            _commit(staging, parts, summary)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
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


def _unique_articles(sources: list[Path], report: ReadReport) -> Iterator[Article]:
    seen: set[str] = set()
    for article in read_articles(sources, report):
        if article.id in seen:
            report.skip(article.origin, f"article id {article.id!r} appears twice; the first is kept")
            continue
        seen.add(article.id)
        yield article


def _commit(staging: Path, parts: list[SegmentPart], summary: BuildSummary) -> None:
    """Make the segments one Whoosh index (in the articles' order) and save the word list."""
    storage = FileStorage(str(staging))
    segments = [part.segment for part in parts if part.segment is not None]
    whoosh_index.TOC(make_schema(), segments, 1).write(storage, INDEX_NAME)
    whoosh_index.clean_files(storage, INDEX_NAME, 1, segments)
    lexicon = Lexicon()
    for part in parts:
        lexicon.counts.update(part.words)
        summary.articles += part.articles
        summary.paragraphs += part.paragraphs
    lexicon.seal().save(staging)


# --- one segment per process ---------------------------------------------------------


@dataclass
class SegmentPart:
    """What one process built: its segment (None if it got no paragraphs), word counts and totals."""

    segment: Segment | None
    words: Counter[str]
    articles: int
    paragraphs: int


class _PartBuilder:
    """Splits articles into paragraphs and collects them into one segment of the index at `staging`."""

    def __init__(self, staging: Path, entities: str):
        self.entities = entities
        schema = make_schema()
        self.builder = SegmentBuilder(FileStorage(str(staging)), schema, SearchappCodec())
        self.analyzer: NewsAnalyzer = schema["text"].analyzer
        self.lexicon = Lexicon()
        self.articles = 0

    def add(self, article: Article) -> None:
        title_words = words_of(article.title)
        for paragraph in split_paragraphs(article, self.entities):
            text = paragraph.text
            words = self.analyzer.words(text)
            self.builder.add_document(index_document(paragraph), {"text": self.analyzer.term_positions(text, words)})
            # In ASCII text the analyzer's words are the word list's: one pass over the text for both.
            self.lexicon.add(title_words | (distinct_words(words) if text.isascii() else words_of(text)))
        self.articles += 1

    def finish(self) -> SegmentPart:
        segment = self.builder.finish() if self.builder.doccount else None
        return SegmentPart(segment, self.lexicon.counts, self.articles, self.builder.doccount)

    def cancel(self) -> None:
        self.builder.cancel()


def _segment_here(staging: Path, articles: Iterable[Article], entities: str, progress: Progress | None) -> SegmentPart:
    part = _PartBuilder(staging, entities)
    with _collector_paused():
        try:
            for article in articles:
                part.add(article)
                if progress:
                    progress(article)
        except BaseException:
            part.cancel()
            raise
        return part.finish()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a build makes millions of lists and no cycles, and the
    collector's passes over them took 3-5 % of it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _segments_in_workers(staging: Path, articles: Iterable[Article], processes: int, entities: str,
                         progress: Progress | None) -> list[SegmentPart]:
    """Build one segment per process, each from a run of consecutive articles, so that the index
    keeps the articles' order (and search results their order among equal scores).

    This process reads all articles while the workers start (it takes less
    time), cuts them into runs of about the same work, and builds the first
    run itself while the workers build the others.
    """
    pool = [_Worker(staging, entities) for _ in range(processes - 1)]
    try:
        first, *others = _runs(list(articles), processes)
        for worker, run in zip(pool, others):
            worker.send(run)

        def built(article: Article) -> None:
            if progress:
                progress(article)
            for worker in pool:
                worker.receive_ready(progress)

        parts = [_segment_here(staging, first, entities, built)]
        while waiting := {worker.results: worker for worker in pool if worker.part is None}:
            for ready in connection.wait(list(waiting)):
                waiting[ready].receive(progress)
        return parts + [worker.part for worker in pool]
    finally:
        for worker in pool:
            worker.stop()


def _runs(articles: list[Article], count: int) -> list[list[Article]]:
    """`count` runs of consecutive articles, each with about the same work (text and paragraphs)."""
    weights = [ARTICLE_WEIGHT + sum(len(block.text) + PARAGRAPH_WEIGHT for block in article.blocks)
               for article in articles]
    total = sum(weights) or 1
    runs: list[list[Article]] = [[] for _ in range(count)]
    done = 0
    for article, weight in zip(articles, weights):
        runs[min((2 * done + weight) * count // (2 * total), count - 1)].append(article)  # by its middle
        done += weight
    return runs


class _Worker:
    """A fresh Python process that builds one segment from the articles sent to it, in batches.

    Started with exec, it holds no copy of the writer lock, and the kernel
    kills it when this process dies (see `_worker_main`). A thread sends the
    batches (a pipe holds far less than a run), so that this process serves
    all workers at once; a worker answers each batch when it is done (for
    `progress`), then with its `SegmentPart`, or with the traceback of its
    failure.
    """

    def __init__(self, staging: Path, entities: str):
        tasks, self._tasks = _pipe()
        self.results, results = _pipe()
        package_root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from searchapp.indexing import _worker_main; _worker_main()",
             str(tasks.fileno()), str(results.fileno()), str(os.getpid())],
            pass_fds=(tasks.fileno(), results.fileno()), stdin=subprocess.DEVNULL, env=env)
        tasks.close()
        results.close()
        self.part: SegmentPart | None = None
        self._sent: deque[list[Article]] = deque()
        self._outbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._outbox.put((str(staging), entities))
        self._sender = threading.Thread(target=self._send_all, daemon=True)
        self._sender.start()

    def send(self, articles: list[Article]) -> None:
        """Send these articles in batches, then the end."""
        for start in range(0, len(articles), BATCH_ARTICLES):
            batch = articles[start:start + BATCH_ARTICLES]
            self._sent.append(batch)
            self._outbox.put(batch)
        self._outbox.put(None)

    def _send_all(self) -> None:
        try:
            while (message := self._outbox.get()) is not None:
                self._tasks.send(message)
            self._tasks.send(None)
        except OSError:
            pass  # the worker is gone; `receive` says so

    def receive_ready(self, progress: Progress | None) -> None:
        while self.part is None and self.results.poll():
            self.receive(progress)

    def receive(self, progress: Progress | None) -> None:
        try:
            message = self.results.recv()
        except EOFError:
            raise SearchIndexError(f"an indexing process died (exit status {self.process.wait()})") from None
        if isinstance(message, str):
            raise SearchIndexError(f"an indexing process failed:\n{message}")
        if isinstance(message, SegmentPart):
            self.part = message
            return
        for article in self._sent.popleft():
            if progress:
                progress(article)

    def stop(self) -> None:
        if self.part is None:
            self.process.kill()
        self.process.wait()
        self._outbox.put(None)
        self._sender.join()
        self._tasks.close()
        self.results.close()


def _pipe() -> tuple[connection.Connection, connection.Connection]:
    """A one-way pipe: (read end, write end)."""
    read, write = os.pipe()
    return connection.Connection(read, writable=False), connection.Connection(write, readable=False)


def _worker_main() -> None:
    """A worker process (see `_Worker`): sys.argv holds its pipes and the build's process id."""
    tasks_fd, results_fd, parent = map(int, sys.argv[1:4])
    _die_with(parent)
    tasks = connection.Connection(tasks_fd, writable=False)
    results = connection.Connection(results_fd, readable=False)
    try:
        staging, entities = tasks.recv()
        part = _PartBuilder(Path(staging), entities)
        with _collector_paused():
            while (batch := tasks.recv()) is not None:
                for article in batch:
                    part.add(article)
                results.send(len(batch))
            results.send(part.finish())
    except Exception:
        results.send(traceback.format_exc())


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this process when the build's process dies, even by SIGKILL, so that a
    worker never outlives a killed build (Linux; elsewhere a worker ends at its next read)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before that
        os._exit(1)


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
        write_term_arrays(generation)  # the new segment's; a search that opened it before reads its blocks
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
