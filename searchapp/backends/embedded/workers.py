"""Building in several processes: one segment per process, each from a run of consecutive articles.

A hand-made pool rather than `ProcessPoolExecutor`: each worker is started
with exec (so it holds no copy of the writer lock), dies with the build
(PR_SET_PDEATHSIG, even when the build is SIGKILLed), and streams progress
per batch of articles while it builds one long-lived segment, which an
executor's independent tasks do not fit.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing import connection
from pathlib import Path

from ...articles import Article
from ...entities import Canonicalizer, EntityNames
from ...errors import SearchIndexError
from .segments import PartBuilder, Progress, SegmentPart, canonical_names, collector_paused

BATCH_ARTICLES = 32  # articles sent to a worker process at a time
# What indexing costs beside the text, in characters of text (measured on BBC and Reuters).
PARAGRAPH_WEIGHT, ARTICLE_WEIGHT = 60, 350
PR_SET_PDEATHSIG = 1  # prctl(2)
_STOP = object()  # ends a worker's sender thread


def segments_in_workers(staging: Path, articles: Iterable[Article], processes: int, entities: str, aliases: str,
                        progress: Progress | None) -> tuple[list[SegmentPart], EntityNames]:
    """Build one segment per process, each from a run of consecutive articles, so that the index
    keeps the articles' order (and search results their order among equal scores); and the
    archive's name counts.

    This process reads all articles while the workers start (it takes less
    time), cuts them into runs of about the same work, and takes the first run
    itself. Every process first finds its articles' names; this process merges
    their counts into one `Canonicalizer` and sends it to all, and then each
    writes its segment.
    """
    pool = [_Worker(staging, entities) for _ in range(processes - 1)]
    try:
        first, *others = _runs(list(articles), processes)
        for worker, run in zip(pool, others):
            worker.send(run)
        part = PartBuilder(staging, entities)
        with collector_paused():
            for article in first:
                part.add(article)
                if progress:
                    progress(article)
                for worker in pool:
                    worker.receive_ready(progress)
            names = EntityNames()
            names.update(part.names)
            for worker in _wait_for(pool, lambda worker: worker.names is None, progress):
                names.update(worker.names)
            canonical = canonical_names(names, aliases)
            for worker in pool:
                worker.send_canonical(canonical)
            part.write(canonical)
            parts = [part.finish()]
        _wait_for(pool, lambda worker: worker.part is None, progress)
        return parts + [worker.part for worker in pool], names
    finally:
        for worker in pool:
            worker.stop()


def _wait_for(pool: list[_Worker], busy: Callable[[_Worker], bool], progress: Progress | None) -> list[_Worker]:
    """Receive from the workers until none is `busy`; the pool."""
    while waiting := {worker.results: worker for worker in pool if busy(worker)}:
        for ready in connection.wait(list(waiting)):
            waiting[ready].receive(progress)
    return pool


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
    all workers at once; a worker answers each batch when it has found its
    names (for `progress`), then with its `EntityNames`; sent the archive's
    `Canonicalizer`, it writes its segment and answers with its `SegmentPart`;
    or at any point with the traceback of its failure.
    """

    def __init__(self, staging: Path, entities: str):
        tasks, self._tasks = _pipe()
        self.results, results = _pipe()
        package_root = str(Path(__file__).resolve().parents[3])  # the folder holding `searchapp`
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from searchapp.backends.embedded.workers import _worker_main; _worker_main()",
             str(tasks.fileno()), str(results.fileno()), str(os.getpid())],
            pass_fds=(tasks.fileno(), results.fileno()), stdin=subprocess.DEVNULL, env=env)
        tasks.close()
        results.close()
        self.part: SegmentPart | None = None
        self.names: EntityNames | None = None
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

    def send_canonical(self, canonical: Canonicalizer) -> None:
        """Send the archive's canonical names: the worker writes its segment."""
        self._outbox.put(canonical)
        self._outbox.put(_STOP)

    def _send_all(self) -> None:
        try:
            while (message := self._outbox.get()) is not _STOP:
                self._tasks.send(message)
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
        if isinstance(message, EntityNames):
            self.names = message
            return
        for article in self._sent.popleft():
            if progress:
                progress(article)

    def stop(self) -> None:
        if self.part is None:
            self.process.kill()
        self.process.wait()
        self._outbox.put(_STOP)
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
        part = PartBuilder(Path(staging), entities)
        with collector_paused():
            while (batch := tasks.recv()) is not None:
                for article in batch:
                    part.add(article)
                results.send(len(batch))
            results.send(part.names)
            part.write(tasks.recv())
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


