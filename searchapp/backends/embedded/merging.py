"""Keeping the number of segments small as updates add theirs: a logarithmic merge policy.

Every `index update` adds one segment. Each segment costs every searching
thread its own open files (about a dozen) and every search one more pass, so
an archive updated hourly would, unmerged, exhaust a worker's file handles
within days and search ever slower. As Lucene's `LogMergePolicy` does, the
updates' segments are grouped in levels by size (a level per factor of
MERGE_FACTOR paragraphs); whenever a level holds MERGE_FACTOR segments, they
are written again as one, so at most MERGE_FACTOR - 1 stay per level. The
build's segments (listed in the generation's meta) are never rewritten: an
update does not pay for the bulk of the archive; `searchapp index build`
compacts everything.

A merge writes its documents from their stored fields with the build's
`PartBuilder` (term arrays included), leaving out deleted ones; segments with
no live documents are dropped. Each paragraph an update adds is written
again O(log n) times over the life of the index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from .segments import PartBuilder, collector_paused
from .whoosh_compat import Segment, open_reader

log = logging.getLogger(__name__)

MERGE_FACTOR = 4


@dataclass
class _Group:
    """Segments that become one: its size is their live paragraphs."""

    members: list[Segment] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(segment.doc_count() for segment in self.members)

    @property
    def level(self) -> int:
        """How many times MERGE_FACTOR goes into the size: floor(log(size))."""
        level, size = 0, self.size
        while size >= MERGE_FACTOR:
            level, size = level + 1, size // MERGE_FACTOR
        return level


def merges_due(segments: list[Segment], built: Collection[str] = ()) -> list[list[Segment]]:
    """The groups of segments to write as one each, by the policy above; `built` are the ids
    of the build's segments, which stay as they are."""
    groups = [_Group([segment]) for segment in segments if segment.doc_count() and segment.segment_id() not in built]
    while True:
        levels: dict[int, list[_Group]] = {}
        for group in groups:
            levels.setdefault(group.level, []).append(group)
        full = next((level for _, level in sorted(levels.items()) if len(level) >= MERGE_FACTOR), None)
        if full is None:
            return [group.members for group in groups if len(group.members) > 1]
        groups = [group for group in groups if all(group is not other for other in full)]
        groups.append(_Group([segment for group in full for segment in group.members]))


def merged_segments(generation: Path, storage: FileStorage, schema, segments: list[Segment], toc: int,
                    built: Collection[str]) -> list[Segment]:
    """`segments` as the next version should list them: merged where the policy says so, those
    with no live paragraph left out."""
    kept = [segment for segment in segments if segment.doc_count()]
    for group in merges_due(kept, built):
        merged = merge(generation, storage, schema, group, toc)
        kept = [segment for segment in kept if segment not in group] + ([merged] if merged is not None else [])
    return kept


def merge(generation: Path, storage: FileStorage, schema, group: list[Segment], toc: int) -> Segment | None:
    """One new segment of the live paragraphs of `group`."""
    started = time.perf_counter()
    part = PartBuilder(generation, entities="off")  # the names are in the stored fields
    with collector_paused():
        try:
            with open_reader(storage, schema, group, toc) as reader:
                for stored in reader.all_stored_fields():
                    part.add_stored(stored)
        except BaseException:
            part.cancel()
            raise
        written = part.finish()
    log.info("merged %d segments (%s paragraphs) into one in %.2f s", len(group),
             "+".join(str(segment.doc_count()) for segment in group), time.perf_counter() - started)
    return written.segment
