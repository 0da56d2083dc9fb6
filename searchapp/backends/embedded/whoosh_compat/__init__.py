"""Every private Whoosh name and every hand-written Whoosh byte format, and nowhere else.

The embedded engine reads Whoosh's files faster than Whoosh does, and writes
them in one pass (`w3_writer.SegmentBuilder`). That leans on names Whoosh does
not promise to keep (`_perdoc`, `_read_data`, `_btexts`, `FileIndex._reader`,
the W3 byte layouts), so they live in this package only, and the version of
`whoosh-reloaded` is pinned exactly in pyproject.toml: a new Whoosh release is
a change of this package, checked by its tests (writer, postings, lengths and
scores compared with Whoosh's own).
"""

from __future__ import annotations

import time

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import IndexReader, TermNotFound
from whoosh.util.numeric import byte_to_length

from .w3_writer import INDEX_NAME, PostingsSink, SegmentBuilder

DOCS = np.int32
WEIGHTS = np.float32
RETAIN_SECONDS = 60.0  # how long a replaced version's files stay: far longer than a search may run
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=WEIGHTS)

__all__ = [
    "INDEX_NAME", "PostingsSink", "Segment", "SearchappCodec", "SegmentBuilder", "delete_documents", "field_lengths",
    "open_reader", "latest_toc_generation", "posting_arrays", "prefix_terms", "raw_postings",
    "read_segments", "toc_exists", "write_toc",
]


class LengthsReader(W3PerDocReader):
    """Whoosh's per-document reader, remembering which fields have no lengths column.

    Whoosh asks for a field's length at every posting it writes; for a field
    without lengths (IDs, keywords) each ask was a stat() of a file that does
    not exist: a third of the time of a build.
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
    """Whoosh's codec with `LengthsReader`; segments pickle this class path."""

    def per_document_reader(self, storage, segment):
        return LengthsReader(storage, segment)


# --- the table of contents: which segments (with their deletions) make one version --------


def read_segments(storage: FileStorage, generation: int | None = None) -> tuple[object, list[Segment], int]:
    """The schema, segments and TOC generation of the index in `storage` (the newest, or `generation`)."""
    toc = whoosh_index.TOC.read(storage, INDEX_NAME, gen=generation)
    return toc.schema, toc.segments, toc.generation


def write_toc(storage: FileStorage, schema, segments: list[Segment], generation: int) -> set[str]:
    """Publish `segments` as TOC `generation`; delete the files of versions replaced more than
    RETAIN_SECONDS ago, and return the ids of the segments of the versions kept.

    Whoosh's `clean_files` deletes every other version at once; a server may still be opening
    a version just replaced, or reading files of it for a request in flight.
    """
    whoosh_index.TOC(schema, segments, generation).write(storage, INDEX_NAME)
    tocs = _toc_files(storage)
    cutoff = time.time() - RETAIN_SECONDS
    kept_tocs = {number for number in tocs
                 if number == generation or (number + 1 in tocs and storage.file_modified(tocs[number + 1]) > cutoff)}
    kept = {segment.segment_id() for segment in segments}
    for number in kept_tocs - {generation}:
        kept.update(segment.segment_id() for segment in read_segments(storage, number)[1])
    for number in tocs.keys() - kept_tocs:  # first: a version whose TOC is there has all its files
        storage.delete_file(tocs[number])
    segment_files = whoosh_index.TOC._segment_pattern(INDEX_NAME)
    for filename in list(storage):
        segment = segment_files.match(filename)
        if segment and segment.group(1) not in kept:
            storage.delete_file(filename)
    return kept


def toc_exists(storage: FileStorage, generation: int) -> bool:
    """Whether TOC `generation` is still there, and with it every file of its version."""
    return storage.file_exists(whoosh_index.TOC._filename(INDEX_NAME, generation))


def _toc_files(storage: FileStorage) -> dict[int, str]:
    """TOC generation -> file name, of every TOC in `storage`."""
    pattern = whoosh_index.TOC._pattern(INDEX_NAME)
    return {int(found.group(1)): name for name in storage if (found := pattern.match(name))}


def open_reader(storage: FileStorage, schema, segments: list[Segment], generation: int) -> IndexReader:
    """A reader of exactly these segments: one version of the index, whatever was committed since."""
    return whoosh_index.FileIndex._reader(storage, schema, list(segments), generation)


def delete_documents(segment: Segment, docnums) -> None:
    """Mark segment document numbers deleted (recorded in the next TOC written with `segment`)."""
    for docnum in docnums:
        segment.delete_document(int(docnum), delete=True)


# --- reading postings and lengths faster than Whoosh's per-posting API -----------------------


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


def raw_postings(segment_reader, fieldname: str, term: bytes):
    """A segment's matcher of every posting of a term, deleted documents included (Whoosh's own
    `postings` skips them, and its filter has moved past the first deleted ones already);
    raises whoosh.reading.TermNotFound."""
    if fieldname not in segment_reader.schema:
        raise TermNotFound(f"no field {fieldname!r}")
    return segment_reader._terms.matcher(fieldname, term, segment_reader.schema[fieldname].format)


def posting_arrays(segment_reader, fieldname: str, term: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Segment document numbers and weights of a term's postings (deleted documents included);
    raises whoosh.reading.TermNotFound."""
    blocks = list(_blocks(raw_postings(segment_reader, fieldname, term)))
    if not blocks:
        return np.empty(0, dtype=DOCS), np.empty(0, dtype=WEIGHTS)
    return np.concatenate([b[0] for b in blocks]).astype(DOCS), np.concatenate([b[1] for b in blocks])


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's length of a scored field, as BM25F sees it (Whoosh's byte-rounded lengths).

    Read from Whoosh's lengths column directly: asking `doc_field_length` per
    document would take seconds at a million paragraphs. A segment may lack
    the column, or its end (Whoosh leaves out trailing zeros): those read as 0.
    """
    parts = []
    for segment, _offset in reader.leaf_readers():
        column = segment._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        lengths = np.zeros(segment.doc_count_all(), dtype=WEIGHTS)
        if column is not None:
            stored = np.frombuffer(bytes(column.load()), dtype=np.uint8)[:len(lengths)]
            lengths[:len(stored)] = _BYTE_LENGTHS[stored]
        parts.append(lengths)
    return np.concatenate(parts) if parts else np.empty(0, dtype=WEIGHTS)


def prefix_terms(q, reader: IndexReader, limit: int) -> list[str]:
    """The first `limit` indexed terms a Whoosh Prefix or Wildcard query stands for."""
    found = []
    for term in q._btexts(reader):
        if len(found) >= limit:
            break
        found.append(term.decode("utf-8") if isinstance(term, bytes) else term)
    return found


def latest_toc_generation(storage: FileStorage) -> int:
    """The generation of the newest table of contents in `storage` (-1 if none)."""
    return whoosh_index.TOC._latest_generation(storage, INDEX_NAME)
