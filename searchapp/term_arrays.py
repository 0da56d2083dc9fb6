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
numbers, int32) and `<field>.weights.npy` (term frequency times field boost,
float32).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.reading import IndexReader

FIELDS = ("title", "text")
PREFIX = "arrays-"
DOCS = np.int32
WEIGHTS = np.float32


def posting_arrays(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a Whoosh leaf matcher's postings.

    Whoosh 3 stores postings in pickled blocks of up to 128; taking a block's
    ids and weights whole is many times faster than Whoosh's per-posting
    `next()`. Short posting lists stored inline are read one by one.
    """
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if hasattr(matcher, "_read_data"):
        while matcher.is_active():
            matcher._read_data()
            block_ids, block_weights, _ = matcher._data
            ids.append(np.cumsum(np.array(block_ids, dtype=np.int64)))
            if block_weights is None or isinstance(block_weights, float):
                weight = 1.0 if block_weights is None else block_weights
                weights.append(np.full(matcher._blocklength, weight, dtype=WEIGHTS))
            else:
                weights.append(np.array(block_weights, dtype=WEIGHTS))
            matcher._next_block()
    else:
        found_ids, found_weights = [], []
        while matcher.is_active():
            found_ids.append(matcher.id())
            found_weights.append(matcher.weight())
            matcher.next()
        ids.append(np.array(found_ids, dtype=np.int64))
        weights.append(np.array(found_weights, dtype=WEIGHTS))
    if not ids:
        return np.empty(0, dtype=DOCS), np.empty(0, dtype=WEIGHTS)
    return np.concatenate(ids).astype(DOCS), np.concatenate(weights)


def _folder(generation: Path, segment_id: str) -> Path:
    return generation / f"{PREFIX}{segment_id}"


def _write_field(folder: Path, segment, fieldname: str) -> None:
    terms, starts, docs, weights = [], [0], [], []
    for term in segment.lexicon(fieldname):
        found_docs, found_weights = posting_arrays(segment._terms.matcher(fieldname, term, segment.schema[fieldname].format))
        terms.append(term)
        docs.append(found_docs)
        weights.append(found_weights)
        starts.append(starts[-1] + len(found_docs))
    np.save(folder / f"{fieldname}.terms.npy", np.array(terms, dtype=bytes) if terms else np.empty(0, dtype="S1"))
    np.save(folder / f"{fieldname}.starts.npy", np.array(starts, dtype=np.int64))
    np.save(folder / f"{fieldname}.docs.npy", np.concatenate(docs) if docs else np.empty(0, dtype=DOCS))
    np.save(folder / f"{fieldname}.weights.npy", np.concatenate(weights) if weights else np.empty(0, dtype=WEIGHTS))


def write_term_arrays(generation: Path) -> None:
    """Write the arrays of every segment of the index in `generation` that has none,
    and remove those of segments that are gone (merged away)."""
    ix = whoosh_index.open_dir(str(generation))
    try:
        with ix.reader() as reader:
            segments = {segment.segment().segment_id(): segment for segment, _ in reader.leaf_readers()}
            for segment_id, segment in segments.items():
                folder = _folder(generation, segment_id)
                if folder.is_dir():
                    continue
                staging = generation / f".{PREFIX}{segment_id}.tmp"
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
                for fieldname in FIELDS:
                    _write_field(staging, segment, fieldname)
                os.replace(staging, folder)
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
                             for part in ("terms", "starts", "docs", "weights"))
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

    def has(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def postings(self, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Segment document numbers and weights of a term (empty if the segment lacks it)."""
        terms, starts, docs, weights = self._fields[fieldname]
        at = int(np.searchsorted(terms, text))
        if at == len(terms) or terms[at] != text:
            return docs[:0], weights[:0]
        return docs[starts[at]:starts[at + 1]], weights[starts[at]:starts[at + 1]]


def segment_arrays(reader: IndexReader, generation: Path | None) -> list[SegmentArrays | None]:
    """Each leaf segment's arrays (None where there are none), in the reader's order."""
    return [SegmentArrays.of(generation, segment.segment().segment_id()) for segment, _ in reader.leaf_readers()]
