"""An index folder's generations, the atomic switch between them, the writer lock and the meta file.

Layout of an index folder::

    INDEX/
      current -> gen-20261125T033000-4242   symbolic link, switched atomically
      gen-…/                                a complete index: Whoosh's files, term arrays,
                                            words.tsv and searchapp.json (format, times)
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
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ...errors import IndexFormatError, IndexLocked, IndexMissing

log = logging.getLogger(__name__)

CURRENT = "current"
LOCK_FILE = ".lock"
META_FILE = "searchapp.json"
GENERATIONS_KEPT = 2
# What the files of a generation are: bumped whenever a build writes something an older reader
# would misread (Whoosh's pickled class paths included). 2: the backends/embedded layout;
# 3: common words indexed.
FORMAT = 3


def _current_link(path: Path) -> Path:
    return path / CURRENT


def current_generation(path: Path) -> Path | None:
    """The folder of the live generation, or None when nothing has been built."""
    try:
        target = os.readlink(_current_link(path))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return path / target


def new_generation_name(prefix: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{prefix}-{stamp}-{os.getpid()}"


def switch_to(path: Path, generation: Path) -> None:
    """Point `current` at `generation` with one atomic rename."""
    temporary = path / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(generation.name, temporary)
    os.replace(temporary, _current_link(path))
    fsync_dir(path)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale(path: Path) -> None:
    """Delete unfinished builds and all but the newest generations.

    Runs under the writer lock, so every `build-*` folder is a dead build's.
    The previous generation is kept for readers that still have it open.
    """
    for leftover in path.glob("build-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for stray in path.glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)
    remove_old_generations(path, GENERATIONS_KEPT)


def remove_old_generations(path: Path, keep: int) -> None:
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
        handle.write(f"pid {os.getpid()}, since {datetime.now(UTC):%H:%M:%S} UTC")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)




def write_meta(generation: Path, meta: dict[str, object]) -> None:
    """Write the generation's meta file atomically, with the format version."""
    temporary = generation / f"{META_FILE}.tmp"
    temporary.write_text(json.dumps({**meta, "format": FORMAT}, indent=2))
    os.replace(temporary, generation / META_FILE)


def read_meta(path: Path, generation: Path) -> dict[str, object]:
    """The meta of a generation of the index at `path`, checked to be of this format.

    An index without a readable meta file, or of another format, is refused
    (`IndexFormatError`) rather than read half-way.
    """
    try:
        meta = json.loads((generation / META_FILE).read_text())
    except FileNotFoundError:
        raise IndexFormatError(path, "unknown (no searchapp.json)", FORMAT) from None
    except (OSError, ValueError) as error:
        log.warning("cannot read %s: %s", generation / META_FILE, error)
        raise IndexFormatError(path, "unknown (unreadable searchapp.json)", FORMAT) from None
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != FORMAT:
        raise IndexFormatError(path, found if found is not None else "1 or older", FORMAT)
    return meta


def live_generation(path: Path) -> Path:
    """The live generation's folder; `IndexMissing` when nothing has been built."""
    generation = current_generation(path)
    if generation is None or not generation.is_dir():
        raise IndexMissing(path)
    return generation


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
