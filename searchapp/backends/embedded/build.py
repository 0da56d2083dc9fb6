"""Building a complete new generation from sources, in up to 4 processes, and switching to it."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from ...articles import ReadReport, count_articles, unique_articles
from ..base import BuildSummary, Progress
from .generations import (
    GENERATIONS_KEPT,
    fsync_dir,
    new_generation_name,
    remove_old_generations,
    remove_stale,
    switch_to,
    write_meta,
    writer_lock,
)
from .lexicon import Lexicon
from .schema import make_schema
from .segments import SegmentPart, save_names, segment_here
from .whoosh_compat import write_toc
from .workers import segments_in_workers

log = logging.getLogger(__name__)

DEFAULT_PROCS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
ARTICLES_PER_PROCESS = 500  # a build of fewer articles per process stays in one: starting one costs ~0.2 s


def build_index(
    path: Path,
    sources: Iterable[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
    procs: int = DEFAULT_PROCS,
    entities: str = "rules",
    aliases: str = "",
) -> BuildSummary:
    """Build a complete new index from `sources` and switch to it atomically.

    Up to `procs` processes build a segment each from a run of the articles
    (see `workers.segments_in_workers`); a small build stays in one. People,
    places and organisations take the names the whole archive knows, after
    the built-in aliases and the user's (`aliases`, a file).
    """
    started = time.monotonic()
    sources = list(sources)
    with writer_lock(path, wait):
        remove_stale(path)
        staging = path / new_generation_name("build")
        staging.mkdir()
        summary = BuildSummary(path=str(path))
        report = ReadReport()
        try:
            articles = unique_articles(sources, report)
            processes = min(procs, count_articles(sources) // ARTICLES_PER_PROCESS)
            log.info("building %s from %d source(s) in %d process(es)", staging, len(sources), max(processes, 1))
            if processes > 1:
                parts, names = segments_in_workers(staging, articles, processes, entities, aliases, progress)
            else:
                part, names = segment_here(staging, articles, entities, progress, aliases)
                parts = [part]
            built = _commit(staging, parts, summary)
            save_names(staging, names)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
        summary.seconds = round(time.monotonic() - started, 3)
        if summary.articles == 0:  # nothing to serve: the live index stays
            shutil.rmtree(staging, ignore_errors=True)
            log.warning("the sources held no articles; %s stays as it was", path)
            return summary
        write_meta(staging, {
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sources": [str(s.absolute()) for s in sources],
            "articles": summary.articles,
            "paragraphs": summary.paragraphs,
            "skipped": summary.skipped,
            "seconds": summary.seconds,
            "built_segments": built,
        })
        # Make room first, so that a kill before the switch leaves at most GENERATIONS_KEPT.
        remove_old_generations(path, GENERATIONS_KEPT - 1)
        generation = staging.rename(path / staging.name.replace("build-", "gen-", 1))
        fsync_dir(path)
        switch_to(path, generation)
        remove_stale(path)
    log.info("built %s: %d articles, %d paragraphs, %d skipped, %.2f s", generation.name, summary.articles,
             summary.paragraphs, len(summary.skipped), summary.seconds)
    return summary


def _commit(staging: Path, parts: list[SegmentPart], summary: BuildSummary) -> list[str]:
    """Make the segments one Whoosh index (in the articles' order) and save the word list;
    the segments' ids, which updates never merge (see `merging.py`)."""
    segments = [part.segment for part in parts if part.segment is not None]
    write_toc(FileStorage(str(staging)), make_schema(), segments, 1)
    lexicon = Lexicon()
    for part in parts:
        lexicon.counts.update(part.words)
        summary.articles += part.articles
        summary.paragraphs += part.paragraphs
    lexicon.seal().save(staging)
    return [segment.segment_id() for segment in segments]
