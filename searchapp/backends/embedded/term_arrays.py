"""Each segment's postings of the searched fields as flat arrays, memory-mapped beside the index.

Whoosh keeps postings in pickled blocks of 128 with their positions; a search
that reads a common word for the first time unpickles thousands of blocks in
Python (most of a cold query, and growing with the corpus). Written once when
a segment is written, these arrays let a search take a word's document numbers
and weights as two slices of a memory map: a binary search among the sorted
terms and no Python loop at all. The operating system's page cache shares the
files between workers. A segment without arrays (written before they existed)
is refused by the index format check; terms over MAX_TERM_BYTES are read from
Whoosh's blocks (`whoosh_compat.posting_arrays`).

Layout, per segment and field, in `arrays-<segment id>/`: `<field>.terms.npy`
(the sorted terms, fixed-width bytes), `<field>.starts.npy` (where each term's
postings start; one more at the end), `<field>.docs.npy` (segment document
numbers, int32), `<field>.weights.npy` (term frequency times field boost,
float32), and for phrases `<field>.positions.npy` (every posting's word
positions, int32) with `<field>.position_starts.npy` (where each posting's positions start).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from whoosh.reading import IndexReader

from ...fields import SEARCHED

log = logging.getLogger(__name__)

FIELDS = SEARCHED  # the fields whose postings are kept as arrays
PARTS = ("terms", "starts", "docs", "weights", "positions", "position_starts")
PREFIX = "arrays-"
MAX_TERM_BYTES = 64  # longer terms (odd tokens) are left to Whoosh: the terms array is as wide as its longest
DOCS = np.int32
WEIGHTS = np.float32


def _folder(generation: Path, segment_id: str) -> Path:
    return generation / f"{PREFIX}{segment_id}"


class FieldArrays:
    """One field's postings, added term by term in term (bytes) order, kept in flat lists
    (C-level `extend`s) until they are saved as arrays, once."""

    def __init__(self):
        self._terms: list[bytes] = []
        self._starts = [0]
        self._docs: list[int] = []
        self._weights: list[float] = []
        self._positions: list[int] = []
        self._counts: list[int] = []  # positions per posting

    def add(self, term: bytes, docs: list[int], weights: list[float], positions: list[int], counts: list[int]) -> None:
        if len(term) > MAX_TERM_BYTES:
            return
        self._terms.append(term)
        self._starts.append(self._starts[-1] + len(docs))
        self._docs.extend(docs)
        self._weights.extend(weights)
        self._positions.extend(positions)
        self._counts.extend(counts)

    def save(self, folder: Path, fieldname: str) -> None:
        arrays = {
            "terms": np.array(self._terms, dtype=bytes) if self._terms else np.empty(0, dtype="S1"),
            "starts": np.array(self._starts, dtype=np.int64),
            "docs": np.array(self._docs, dtype=DOCS),
            "weights": np.array(self._weights, dtype=WEIGHTS),
            "positions": np.array(self._positions, dtype=np.int32),
            "position_starts": np.concatenate(([0], np.cumsum(np.array(self._counts, dtype=np.int64)))),
        }
        for part, array in arrays.items():
            np.save(folder / f"{fieldname}.{part}.npy", array)


def write_segment_arrays(generation: Path, segment_id: str, fields: Mapping[str, FieldArrays]) -> None:
    """Write one segment's arrays from each searched field's postings.

    The segment builder calls this with the postings it holds in memory.
    """
    staging = generation / f".{PREFIX}{segment_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for fieldname in FIELDS:
        fields.get(fieldname, FieldArrays()).save(staging, fieldname)
    os.replace(staging, _folder(generation, segment_id))


def remove_arrays_except(generation: Path, kept: set[str]) -> None:
    """Delete the arrays of every segment but `kept` (the segments' files went with a merge), and
    the staging folders of writers that were killed (the caller holds the writer lock)."""
    for folder in generation.glob(f"{PREFIX}*"):
        if folder.name.removeprefix(PREFIX) not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for staging in generation.glob(f".{PREFIX}*.tmp"):
        shutil.rmtree(staging, ignore_errors=True)


class SegmentArrays:
    """The memory-mapped arrays of one segment."""

    def __init__(self, folder: Path):
        self._fields = {
            fieldname: tuple(np.load(folder / f"{fieldname}.{part}.npy", mmap_mode="r")
                             for part in PARTS)
            for fieldname in FIELDS
        }

    @classmethod
    def of(cls, generation: Path, segment_id: str) -> SegmentArrays | None:
        """The segment's arrays, or None (with a warning: searches read Whoosh's blocks, slower)
        when they are missing or cannot be read."""
        folder = _folder(generation, segment_id)
        try:
            return cls(folder)
        except (OSError, ValueError) as error:
            log.warning("term arrays of segment %s in %s cannot be read (%s); searching it reads Whoosh's "
                        "postings instead, slower: rebuild the index", segment_id, generation, error)
            return None

    def holds(self, fieldname: str, term: bytes) -> bool:
        """Whether the arrays answer for this term (found or not); if not, ask Whoosh."""
        return fieldname in self._fields and len(term) <= MAX_TERM_BYTES

    def _range(self, fieldname: str, text: bytes) -> tuple[int, int]:
        """Where the term's postings are in the field's arrays (empty if the segment lacks it)."""
        terms, starts = self._fields[fieldname][:2]
        at = int(np.searchsorted(terms, text))
        if at == len(terms) or terms[at] != text:
            return 0, 0
        return int(starts[at]), int(starts[at + 1])

    def postings(self, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Segment document numbers and weights of a term."""
        first, end = self._range(fieldname, text)
        docs, weights = self._fields[fieldname][2:4]
        return docs[first:end], weights[first:end]

    def positions(self, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Each word position of a term in the segment, and the document of each."""
        first, end = self._range(fieldname, text)
        docs, positions, position_starts = (self._fields[fieldname][n] for n in (2, 4, 5))
        counts = np.diff(position_starts[first:end + 1]) if end > first else np.empty(0, dtype=np.int64)
        return positions[position_starts[first]:position_starts[end]], np.repeat(docs[first:end], counts)


def segment_arrays(reader: IndexReader, generation: Path) -> list[SegmentArrays | None]:
    """Each leaf segment's arrays (None where there are none), in the reader's order."""
    return [SegmentArrays.of(generation, segment.segment().segment_id()) for segment, _ in reader.leaf_readers()]
