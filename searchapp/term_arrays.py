"""Each segment's postings of the searched fields as flat arrays, memory-mapped beside the index.

Whoosh keeps postings in pickled blocks of 128 with their positions; a search
that reads a common word for the first time unpickles thousands of blocks in
Python (most of a cold query, and growing with the corpus). Written once when
a segment is written, these arrays let a search take a word's document numbers
and weights as two slices of a memory map: a binary search among the sorted
terms and no Python loop at all. The operating system's page cache shares the
files between workers. A segment without arrays (written before they existed)
is still read block by block.

Layout, per segment and field, in `arrays-<segment id>/`: `<field>.terms.npy`
(the sorted terms, fixed-width bytes), `<field>.starts.npy` (where each term's
postings start; one more at the end), `<field>.docs.npy` (segment document
numbers, int32), `<field>.weights.npy` (term frequency times field boost,
float32), and for phrases `<field>.positions.npy` (every posting's word
positions, int32) with `<field>.position_starts.npy` (where each posting's positions start).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from itertools import chain
from pathlib import Path
from pickle import loads

import numpy as np
from whoosh import index as whoosh_index
from whoosh.reading import IndexReader
from whoosh.system import _INT_SIZE

FIELDS = ("title", "text")
PARTS = ("terms", "starts", "docs", "weights", "positions", "position_starts")
PREFIX = "arrays-"
MAX_TERM_BYTES = 64  # longer terms (odd tokens) are left to Whoosh: the terms array is as wide as its longest
DOCS = np.int32
WEIGHTS = np.float32


def _blocks(matcher):
    """(ids, weights, values) of each block of a Whoosh leaf matcher's postings.

    Whoosh 3 stores postings in pickled blocks of up to 128; taking a block's
    ids and weights whole is many times faster than Whoosh's per-posting
    `next()`. Short posting lists stored inline are read one by one.
    """
    if hasattr(matcher, "_read_data"):
        while matcher.is_active():
            matcher._read_data()
            block_ids, block_weights, values = matcher._data
            ids = np.cumsum(np.array(block_ids, dtype=np.int64))
            if block_weights is None or isinstance(block_weights, float):
                weight = 1.0 if block_weights is None else block_weights
                yield ids, np.full(matcher._blocklength, weight, dtype=WEIGHTS), values
            else:
                yield ids, np.array(block_weights, dtype=WEIGHTS), values
            matcher._next_block()
        return
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    yield np.array(ids, dtype=np.int64), np.array(weights, dtype=WEIGHTS), values


def posting_arrays(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a Whoosh leaf matcher's postings."""
    blocks = list(_blocks(matcher))
    if not blocks:
        return np.empty(0, dtype=DOCS), np.empty(0, dtype=WEIGHTS)
    return np.concatenate([b[0] for b in blocks]).astype(DOCS), np.concatenate([b[1] for b in blocks])


def _positions(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Word positions of each posting, flat, and how many each has.

    Whoosh's `Positions` value is a count and a pickled list of gaps (without
    the pickle's final stop code); the gaps are summed per posting by one
    cumulative sum over all of them.
    """
    gaps = [loads(value[_INT_SIZE:] + b".") for value in values]
    counts = np.fromiter(map(len, gaps), dtype=np.int64, count=len(gaps))
    flat = np.fromiter(chain.from_iterable(gaps), dtype=np.int64, count=int(counts.sum()))
    totals = np.cumsum(flat)
    before = np.concatenate(([0], totals[np.cumsum(counts)[:-1] - 1])) if len(counts) else counts
    return (totals - np.repeat(before, counts)).astype(np.int32), counts


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


def _whoosh_postings(segment, fieldname: str) -> FieldArrays:
    """A segment's postings of a field as Whoosh wrote them."""
    field = FieldArrays()
    for term in segment.lexicon(fieldname):
        matcher = segment.postings(fieldname, term)
        blocks = list(_blocks(getattr(matcher, "child", matcher)))  # deleted documents too
        positions = [_positions(values) for _, _, values in blocks]
        field.add(term, *(np.concatenate(parts).tolist() for parts in (
            [b[0] for b in blocks], [b[1] for b in blocks], [p[0] for p in positions], [p[1] for p in positions])))
    return field


def write_segment_arrays(generation: Path, segment_id: str, fields: Mapping[str, FieldArrays]) -> None:
    """Write one segment's arrays from each searched field's postings.

    A segment writer that has the postings at hand calls this directly;
    `write_term_arrays` reads them back from Whoosh's files instead.
    """
    staging = generation / f".{PREFIX}{segment_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for fieldname in FIELDS:
        fields.get(fieldname, FieldArrays()).save(staging, fieldname)
    os.replace(staging, _folder(generation, segment_id))


def write_term_arrays(generation: Path) -> None:
    """Write the arrays of every segment of the index in `generation` that has none,
    and remove those of segments that are gone (merged away)."""
    ix = whoosh_index.open_dir(str(generation))
    try:
        with ix.reader() as reader:
            segments = {segment.segment().segment_id(): segment for segment, _ in reader.leaf_readers()}
            for segment_id, segment in segments.items():
                if not _folder(generation, segment_id).is_dir():
                    write_segment_arrays(generation, segment_id,
                                         {fieldname: _whoosh_postings(segment, fieldname) for fieldname in FIELDS})
    finally:
        ix.close()
    for folder in generation.glob(f"{PREFIX}*"):
        if folder.name[len(PREFIX):] not in segments:
            shutil.rmtree(folder, ignore_errors=True)


class SegmentArrays:
    """The memory-mapped arrays of one segment."""

    def __init__(self, folder: Path):
        self._fields = {
            fieldname: tuple(np.load(folder / f"{fieldname}.{part}.npy", mmap_mode="r")
                             for part in PARTS)
            for fieldname in FIELDS
        }

    @classmethod
    def of(cls, generation: Path | None, segment_id: str) -> SegmentArrays | None:
        """The segment's arrays, or None when it has none (or they cannot be read)."""
        if generation is None or not _folder(generation, segment_id).is_dir():
            return None
        try:
            return cls(_folder(generation, segment_id))
        except (OSError, ValueError):
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


def segment_arrays(reader: IndexReader, generation: Path | None) -> list[SegmentArrays | None]:
    """Each leaf segment's arrays (None where there are none), in the reader's order."""
    return [SegmentArrays.of(generation, segment.segment().segment_id()) for segment, _ in reader.leaf_readers()]
