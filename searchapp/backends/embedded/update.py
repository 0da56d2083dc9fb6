"""Updating the live generation in place: a new segment for new and changed articles, deletions
marked in the old segments, published by one new table of contents.

The new segment is written by the same `PartBuilder` as a build's; the
updates' segments are then merged (`merging.py`). The files of a replaced
version stay a minute (`whoosh_compat.RETAIN_SECONDS`), so a server still
opening it or answering from it finds them. The new and changed articles'
names are made canonical with the archive's counts kept by the build plus
theirs; names already indexed keep the canonical form they were written with
(a new full name for an old short form applies to the new articles only), and
counts of deleted articles stay: a rebuild settles both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.reading import TermNotFound

from ...articles import Article, ReadReport, unique_articles
from ...entities import Canonicalizer
from ..base import BuildSummary, Progress
from .generations import live_generation, read_meta, write_meta, writer_lock
from .lexicon import Lexicon
from .merging import merged_segments
from .segments import canonical_names, load_names, save_names, segment_here
from .term_arrays import remove_arrays_except
from .whoosh_compat import Segment, delete_documents, open_reader, read_segments, write_toc

log = logging.getLogger(__name__)


def update_index(
    path: Path,
    sources: Iterable[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
    entities: str = "rules",
    aliases: str = "",
) -> BuildSummary:
    """Add new articles, replace changed ones and delete those whose source is gone.

    An article is changed when its content hash differs. An indexed article is
    gone when its source file no longer exists, or when its file lies within
    the named sources but no longer holds it. A repeated article id is skipped
    and reported, as a build does.
    """
    started = time.monotonic()
    sources = [s.absolute() for s in sources]
    with writer_lock(path, wait):
        generation = live_generation(path)
        meta = read_meta(path, generation)
        storage = FileStorage(str(generation))
        schema, segments, toc_generation = read_segments(storage)
        # An index built before merging lists no build segments: what it holds counts as built.
        meta.setdefault("built_segments", [segment.segment_id() for segment in segments])
        indexed = _indexed_articles(storage, schema, segments, toc_generation)
        summary, report = BuildSummary(path=str(path)), ReadReport()
        changed, removed = _changes(sources, indexed, report, summary, progress)
        known = load_names(generation)
        part, names = segment_here(generation, changed, entities, progress, aliases, known) if changed else (None, None)
        if part is not None or removed:
            _delete_articles(storage, schema, segments, toc_generation, removed)
            if part is not None:
                summary.articles, summary.paragraphs = part.articles, part.paragraphs
                # Words only ever get added, so the word list is saved first: a reader that sees the
                # new documents finds their words too. Words of deleted articles stay until a rebuild.
                lexicon = Lexicon.load(generation)
                lexicon.counts.update(part.words)
                lexicon.seal().save(generation)
                save_names(generation, names)
                _log_renamed(canonical_names(known, aliases), canonical_names(names, aliases))
                segments = [*segments, part.segment] if part.segment is not None else segments
            segments = merged_segments(generation, storage, schema, segments, toc_generation,
                                       set(meta["built_segments"]))
            remove_arrays_except(generation, write_toc(storage, schema, segments, toc_generation + 1))
        summary.skipped = [f"{s.path}: {s.reason}" for s in report.skipped]
        summary.seconds = round(time.monotonic() - started, 3)
        write_meta(generation, {**meta, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")})
    log.info("updated %s: added %d, replaced %d, deleted %d, unchanged %d, %d skipped, %.2f s", generation.name,
             summary.added, summary.replaced, summary.deleted, summary.unchanged, len(summary.skipped),
             summary.seconds)
    return summary


def _indexed_articles(storage: FileStorage, schema, segments: list[Segment], toc: int) -> dict[str, tuple[str, str]]:
    """article id -> (content hash, origin) of every article in the index."""
    indexed: dict[str, tuple[str, str]] = {}
    with open_reader(storage, schema, segments, toc) as reader:
        for fields in reader.all_stored_fields():
            indexed.setdefault(fields["article_id"], (fields.get("article_hash", ""), fields.get("origin", "")))
    return indexed


def _changes(sources: list[Path], indexed: dict[str, tuple[str, str]], report: ReadReport, summary: BuildSummary,
             progress: Progress | None) -> tuple[list[Article], set[str]]:
    """The articles to (re)index, and the ids of the indexed articles to delete."""
    changed: list[Article] = []
    removed: set[str] = set()
    seen: set[str] = set()
    for article in unique_articles(sources, report):
        seen.add(article.id)
        known = indexed.get(article.id)
        if known is not None and known[0] == article.content_hash:
            summary.unchanged += 1
            if progress:
                progress(article)
            continue
        if known is not None:
            summary.replaced += 1
            removed.add(article.id)
        else:
            summary.added += 1
        changed.append(article)
    for article_id, (_, origin) in indexed.items():
        if article_id not in seen and (not Path(origin).exists() or _within(origin, sources)):
            removed.add(article_id)
            summary.deleted += 1
    return changed, removed


def _within(origin: str, sources: list[Path]) -> bool:
    path = Path(origin)
    return any(path == source or source in path.parents for source in sources)


def _delete_articles(storage: FileStorage, schema, segments: list[Segment], toc: int, article_ids: set[str]) -> None:
    """Mark every live paragraph of these articles deleted in its segment (`segments` are changed)."""
    if not article_ids:
        return
    with open_reader(storage, schema, segments, toc) as reader:
        for segment_reader, _offset in reader.leaf_readers():
            for article_id in article_ids:
                try:
                    docnums = list(segment_reader.postings("article_id", article_id).all_ids())  # live ones
                except TermNotFound:
                    continue
                delete_documents(segment_reader.segment(), docnums)


def _log_renamed(before: Canonicalizer, after: Canonicalizer) -> None:
    """Say which names the new articles gave another canonical name: paragraphs indexed before
    keep the old one until a rebuild."""
    changed = after.changes(before)
    count = sum(map(len, changed.values()))
    if count:
        examples = ", ".join(sorted(name for names in changed.values() for name in names)[:5])
        log.warning("the new articles gave %d name(s) another canonical name (%s); paragraphs indexed before keep "
                    "the old one until `searchapp index build`", count, examples)
