"""A Whoosh segment written in one go from documents collected in memory.

Whoosh's `SegmentWriter` makes a tuple of every posting, sorts them all in a
pool, then looks each posting's field length up again while it writes: most
of the time of a build. `SegmentBuilder` keeps each field's postings in a dict
(term -> document numbers, weights, values) as documents come, and at the end
writes the terms in order straight into Whoosh's W3 files, handing the searched
fields' postings to a sink on the way (the engine's term arrays).

The result is a normal Whoosh segment with the same terms, postings, stored
fields, columns and field lengths as `SegmentWriter` writes (a test compares
the two). Only the bytes differ, in ways every Whoosh reader accepts:

- pickles use protocol 5, not 2 (readers call `pickle.loads`, which reads any);
- a posting block is compressed only from COMPRESS_FROM bytes on, and a
  document's stored fields not at all (`zlib_stored`): zlib took a tenth of
  the time of a build;
- the term table hashes its keys with CRC-32, not MD5 (its header says which).
"""

from __future__ import annotations

import zlib
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from itertools import accumulate, repeat
from operator import sub
from pickle import dumps
from struct import Struct


from whoosh.analysis import CommaSeparatedTokenizer, IDTokenizer
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.columns import VarBytesColumn
from whoosh.fields import FieldType, Schema, UnknownFieldError
from whoosh.filedb.filestore import Storage
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray


INDEX_NAME = "MAIN"  # Whoosh's default
# A searched field's postings of one term, in term order: field, term, documents, weights, flat
# word positions and how many positions each posting has.
PostingsSink = Callable[[str, bytes, list[int], list[float], list[int], list[int]], None]
BLOCK_SIZE = 128  # postings per block, as Whoosh's W3 codec writes them
PICKLE_PROTOCOL = 5
COMPRESSION = 3  # zlib level, Whoosh's
WINDOW_BITS = 14  # with MEMORY_LEVEL, zlib's state stays under malloc's mmap threshold
MEMORY_LEVEL = 6
COMPRESS_FROM = 160  # bytes of a pickled block: smaller ones gain little and cost a zlib call each
FLUSH_BYTES = 1 << 20  # postings buffered before a write
BUFFERED_VALUES = 4096  # column values buffered before a write
VALUE_CACHE = 50_000  # distinct values of a field remembered with their terms
CRC32_HASH = 1  # Whoosh's number for it
NO_LENGTH = 256  # below every length byte: "no length"

_consume = deque(maxlen=0).extend
_TERM_INFO = Struct("!BfIBBfII")  # W3TermInfo's header
_KEY_VALUE_LENGTHS = Struct("!ii")  # before each row of a hash file
_FLOAT32 = Struct("f")
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no dictionary, fastest
_STORED_BLOCK = Struct("<BHH")  # last block?, length, its complement
_ADLER = Struct(">I")
_LENGTH_BYTES = [length_to_byte(n) for n in range(4096)]
_ROUNDED = [length_to_byte(byte_to_length(b)) for b in range(256)]  # a length byte as Whoosh writes it again


def compress(data: bytes) -> bytes:
    """zlib at Whoosh's level with a smaller window and hash (any zlib reader reads it)."""
    packer = zlib.compressobj(COMPRESSION, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL)
    return packer.compress(data) + packer.flush()


def zlib_stored(data: bytes) -> bytes:
    """`data` as a zlib stream of stored (not deflated) blocks: Whoosh's stored-fields column must
    be zlib data, and deflating a paragraph cost twenty times more than this for a third off its size."""
    chunks = [data[at:at + 0xFFFF] for at in range(0, len(data), 0xFFFF)] or [b""]
    blocks = [_STORED_BLOCK.pack(at == len(chunks) - 1, len(chunk), len(chunk) ^ 0xFFFF) + chunk
              for at, chunk in enumerate(chunks)]
    return _ZLIB_HEADER + b"".join(blocks) + _ADLER.pack(zlib.adler32(data))


def length_byte(length: int) -> int:
    return _LENGTH_BYTES[length] if length < len(_LENGTH_BYTES) else length_to_byte(length)


class _Field:
    """One schema field: how its values become postings, stored values, column values and lengths.

    Each term's postings are one flat list: [doc, position(s), doc, position(s), …] for a field
    analysed by `term_positions`, [doc, weight, value, doc, weight, value, …] for the others.
    """

    def __init__(self, name: str, field: FieldType):
        self.name = name
        self.field = field
        self.stored = field.stored
        self.indexed = field.indexed
        self.scorable = bool(field.indexed and field.scorable)
        self.column = field.column_type
        fmt = field.format
        self.fixed_size = fmt.fixed_value_size() if fmt else 0
        self.analyzer = getattr(field, "analyzer", None)
        self.fast = type(fmt) is Positions and hasattr(self.analyzer, "term_positions")
        # The terms of ID and comma-separated KEYWORD fields, known without Whoosh's generators.
        plain = type(field).index is FieldType.index
        self.whole = plain and type(fmt) is Existence and type(self.analyzer) is IDTokenizer
        self.commas = plain and type(fmt) is Frequency and self.analyzer == CommaSeparatedTokenizer()
        self.last: tuple[object, tuple[dict, int]] = (None, ({}, 0))  # a title repeats for each paragraph
        self.boost = fmt.field_boost if fmt else 1.0
        self.cached = not field.unique
        self.cache: dict[object, tuple[object, list[tuple[list, int, float, bytes]]]] = {}
        self.terms: defaultdict[object, list] = defaultdict(list)
        self.lengths = bytearray()
        self.total_length = 0

    def postings_of(self, value) -> tuple[object, list[tuple[list, int, float, bytes]]]:
        """The column value of `value`, and its terms' posting lists with frequency, weight and value
        (from Whoosh's `index`)."""
        found = self.cache.get(value) if self.cached else None
        if found is None:
            column = self.field.to_column_value(value) if self.column else None
            found = (column, [(self.terms[term], *posting) for term, *posting in self._items(value)])
            if self.cached:
                if len(self.cache) >= VALUE_CACHE:
                    self.cache.clear()
                self.cache[value] = found
        return found


    def _items(self, value) -> Iterable[tuple[bytes, int, float, bytes]]:
        if not self.indexed:
            return []
        if self.whole:
            return [(value.encode("utf-8"), 1, self.boost, b"")]
        if self.commas:
            return _comma_items(value, self.boost)
        return self.field.index(value)


def _comma_items(value: str, boost: float) -> list[tuple[bytes, int, float, bytes]]:
    """What `Frequency.word_values` makes of a CommaSeparatedTokenizer's tokens (each stripped)."""
    counts: dict[str, int] = {}
    for part in value.split(","):
        if part:
            text = part.strip()
            counts[text] = counts.get(text, 0) + 1
    return [(text.encode("utf-8"), n, float(n) * boost, pack_uint(n)) for text, n in counts.items()]


class _SinglePositions(dict):
    """position -> Whoosh's `Positions.encode([position])`: most postings have one position."""

    def __missing__(self, position: int) -> bytes:
        encoded = self[position] = _encode_positions([position])
        return encoded


def _encode_positions(positions: list[int]) -> bytes:
    return pack_uint(len(positions)) + dumps(list(map(sub, positions, [0, *positions[:-1]])), 2)


class SegmentBuilder:
    """Collects documents and writes them as one new segment of the index in `storage`."""

    def __init__(self, storage: Storage, schema: Schema, codec: W3Codec, postings_sink: PostingsSink | None = None,
                 indexname: str = INDEX_NAME):
        self.storage = storage
        self._sink = postings_sink
        self.codec = codec
        self.segment: Segment = codec.new_segment(storage, indexname)
        self.doccount = 0
        self._fields = [_Field(name, schema[name]) for name in sorted(schema.names())]
        self._names = frozenset(schema.names())
        self._scored = [f for f in self._fields if f.scorable]
        self._columns: dict[str, object] = {}
        self._files: list[object] = []
        self._stored = None
        self._single = _SinglePositions()

    # --- documents -----------------------------------------------------------------------

    def add_document(self, fields: dict[str, object],
                     analysed: dict[str, tuple[dict[str, int | list[int]], int]] | None = None) -> None:
        """Add one document, as `SegmentWriter.add_document(**fields)` would; `analysed` may hold the
        `term_positions` of fields the caller has analysed already."""
        unknown = fields.keys() - self._names
        if unknown:
            raise UnknownFieldError(f"no fields named {sorted(unknown)}")
        docnum = self.doccount
        for f in self._scored:
            f.lengths.append(0)
        stored = {}
        for f in self._fields:
            value = fields.get(f.name)
            if value is None:
                continue
            if f.stored:
                stored[f.name] = value
            if f.fast:
                length = self._add_positions(f, docnum, value, analysed and analysed.get(f.name))
            elif f.indexed or f.column:
                length = self._add_postings(f, docnum, value)
            else:
                continue
            if length and f.scorable:
                f.lengths[docnum] = length_byte(length)
                f.total_length += length
        if stored:
            self._stored_column().add(docnum, zlib_stored(dumps(stored, PICKLE_PROTOCOL)))
        self.doccount += 1

    @staticmethod
    def _add_positions(f: _Field, docnum: int, value: str, analysed: tuple[dict, int] | None) -> int:
        if analysed is not None:
            found, length = analysed
        elif value == f.last[0]:
            found, length = f.last[1]
        else:
            found, length = f.analyzer.term_positions(value)
            f.last = (value, (found, length))
        lists = list(map(f.terms.__getitem__, found))
        _consume(map(list.append, lists, repeat(docnum)))  # C loops: a Python loop here was a tenth of a build
        _consume(map(list.append, lists, found.values()))
        return length

    def _add_postings(self, f: _Field, docnum: int, value) -> int:
        found = f.cache.get(value) if f.cached else None
        column_value, postings = found if found is not None else f.postings_of(value)
        if column_value is not None:
            self._column(f).add(docnum, column_value)
        for flat, _, weight, encoded in postings:
            flat.extend((docnum, weight, encoded))
        return sum(frequency for _, frequency, _, _ in postings) if f.scorable else 0

    # --- files ---------------------------------------------------------------------------

    def _column_writer(self, name: str, column):
        dbfile = self.storage.create_file(self.codec.column_filename(self.segment, name))
        self._files.append(dbfile)
        plain = type(column) is VarBytesColumn and column.allow_offsets
        writer = _VarBytesWriter(dbfile, column.write_offsets_cutoff) if plain else column.writer(dbfile)
        self._columns[name] = writer
        return writer

    def _stored_column(self):
        if self._stored is None:
            self._stored = self._column_writer("_stored", VarBytesColumn())
        return self._stored

    def _column(self, f: _Field):
        writer = self._columns.get(f.name)
        return writer if writer is not None else self._column_writer(f.name, f.column)

    def finish(self) -> Segment:
        """Write the postings, lengths and columns; the segment, ready for a TOC."""
        self._stored_column()  # Whoosh's readers expect it
        for writer in self._columns.values():
            writer.finish(self.doccount)
        for f in self._scored:
            self._write_lengths(f)
        for dbfile in self._files:
            dbfile.close()
        self._write_terms()
        self.segment.set_doc_count(self.doccount)
        self.segment._fieldlengths = {f.name: f.total_length for f in self._scored if f.total_length}
        return self.segment

    def cancel(self) -> None:
        """Close the files written so far (the caller removes them)."""
        for dbfile in self._files:
            dbfile.close()

    def _write_lengths(self, f: _Field) -> None:
        """The field's length column: Whoosh leaves out the zero lengths at the end."""
        if f.total_length:
            dbfile = self.storage.create_file(self.codec.column_filename(self.segment, f"_{f.name}_len"))
            dbfile.write(bytes(f.lengths.rstrip(b"\0")))
            dbfile.close()

    def _write_terms(self) -> None:
        terms_file = self.segment.create_file(self.storage, W3Codec.TERMS_EXT)
        postings_file = self.segment.create_file(self.storage, W3Codec.POSTS_EXT)
        table = _TermTable(terms_file)
        fieldmap = table.extras["fieldmap"] = {}
        writer = _PostingsWriter(postings_file)
        for f in self._fields:
            if not f.terms:
                continue
            prefix = pack_ushort(len(fieldmap))
            fieldmap[f.name] = len(fieldmap)
            lengths = f.lengths if f.scorable else None
            rows = []
            sink = self._sink if f.fast and self._sink is not None else None
            for term in sorted(f.terms):
                docs, weights, values = self._term_postings(f, f.terms[term])
                key = term.encode("utf-8") if f.fast else term
                rows.append((prefix + key, writer.term(docs, weights, values, f.fixed_size, lengths)))
                if sink is not None:
                    sink(f.name, key, docs, weights, *_positions(f.terms[term][1::2]))
            table.add_sorted(rows)
            f.terms.clear()
            f.cache.clear()
        writer.close()
        table.close()

    def _term_postings(self, f: _Field, flat: list) -> tuple[list[int], list[float], list[bytes]]:
        """Document numbers, weights and encoded values of one term's flat posting list."""
        if not f.fast:
            return flat[0::3], flat[1::3], flat[2::3]
        if len(flat) == 2 and flat[1].__class__ is int:
            return [flat[0]], [f.boost], [self._single[flat[1]]]
        found = flat[1::2]
        frequencies = [1 if at.__class__ is int else len(at) for at in found]
        weights = [n * f.boost for n in frequencies]
        single = self._single
        values = [single[at] if at.__class__ is int else _encode_positions(at) for at in found]
        return flat[0::2], weights, values


def _positions(found: list) -> tuple[list[int], list[int]]:
    """All positions of a term's postings, flat, and how many each has (`found` holds a posting's
    position, or the list of them)."""
    positions, counts = [], []
    for at in found:
        if at.__class__ is int:
            positions.append(at)
            counts.append(1)
        else:
            positions.extend(at)
            counts.append(len(at))
    return positions, counts


class _VarBytesWriter:
    """Writes what Whoosh's `VarBytesColumn` writer does, with a document's bookkeeping in arrays
    instead of a dozen Python calls."""

    def __init__(self, dbfile, offsets_from: int):
        self._file = dbfile
        self._offsets_from = offsets_from
        self._docs = array("L")
        self._lengths = array("L")
        self._values: list[bytes] = []

    def add(self, docnum: int, value: bytes) -> None:
        self._docs.append(docnum)
        self._values.append(value)
        if len(self._values) >= BUFFERED_VALUES:
            self._flush()

    def _flush(self) -> None:
        self._file.write(b"".join(self._values))
        self._lengths.extend(map(len, self._values))
        self._values = []

    def finish(self, doccount: int) -> None:
        self._flush()
        lengths = array("L", bytes(doccount * array("L").itemsize))
        for docnum, length in zip(self._docs, self._lengths):
            lengths[docnum] = length
        self._file.write_array(_smallest_array(lengths))
        codes = _smallest_array(lengths).typecode
        if doccount > self._offsets_from:
            offsets = _smallest_array(array("L", accumulate(lengths[:-1], initial=0)))
            self._file.write_array(offsets)
            codes += offsets.typecode + "X"
        self._file.write(codes.encode("ascii"))


def _smallest_array(numbers: array) -> array:
    """The numbers in the type Whoosh's GrowableArray ends with for them."""
    top = max(numbers, default=0)
    return array("B" if top < 2**8 else "H" if top < 2**16 else "i" if top < 2**31 else "I", numbers)


class _PostingsWriter:
    """Posting lists in the W3 format: per term a header, then blocks of up to BLOCK_SIZE postings."""

    def __init__(self, dbfile):
        self._file = dbfile
        self._offset = 0
        self._parts: list[bytes] = []
        self._buffered = 0

    def term(self, docs: list[int], weights: list[float], values: list[bytes], fixed_size: int | None,
             lengths: bytearray | None) -> bytes:
        """Write one term's postings; its W3TermInfo bytes."""
        count = len(docs)
        if count == 1:
            return self._single(docs[0], weights[0], values[0] if fixed_size != 0 else b"", fixed_size, lengths)
        parts = [WHOOSH3_HEADER_MAGIC]
        total, top_weight, min_length, max_length = 0.0, 0, NO_LENGTH, 0
        for at in range(0, count, BLOCK_SIZE):
            end = at + BLOCK_SIZE
            block, weight, heaviest, low, high = _block(docs[at:end], weights[at:end], values[at:end], fixed_size,
                                                        lengths, last=end >= count)
            parts.append(block)
            total += weight
            top_weight = max(top_weight, heaviest)
            min_length, max_length = min(min_length, low), max(max_length, high)
        chunk = b"".join(parts)
        start = self._offset
        self._write(chunk)
        header = _TERM_INFO.pack(0, total, count, _rounded(min_length), _ROUNDED[max_length],
                                 top_weight, docs[0], docs[-1])
        return header + pack_long(start) + pack_int(len(chunk))

    def _single(self, doc: int, weight: float, value: bytes, fixed_size: int | None,
                lengths: bytearray | None) -> bytes:
        """`term` for a term in one document, the most common kind, in fewer steps."""
        stored_weight = _FLOAT32.unpack(_FLOAT32.pack(weight))[0]
        data = dumps(((doc,), None if stored_weight == 1.0 else stored_weight, _mini_values((value,), fixed_size)),
                     PICKLE_PROTOCOL)
        level = 0
        if len(data) >= COMPRESS_FROM:
            data, level = compress(data), COMPRESSION
        length = lengths[doc] if lengths is not None else 0
        low, high = _rounded(length or NO_LENGTH), _ROUNDED[length]
        heaviest = weight if weight > 0 else 0
        info = dumps((1, doc, heaviest, level, low, high), PICKLE_PROTOCOL)
        chunk = WHOOSH3_HEADER_MAGIC + pack_int(-len(info) - len(data)) + info + data
        start = self._offset
        self._write(chunk)
        header = _TERM_INFO.pack(0, stored_weight, 1, low, high, heaviest, doc, doc)
        return header + pack_long(start) + pack_int(len(chunk))

    def _write(self, data: bytes) -> None:
        self._parts.append(data)
        self._offset += len(data)
        self._buffered += len(data)
        if self._buffered >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        self._file.write(b"".join(self._parts))
        self._parts, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        self._file.close()


def _block(ids: list[int], weights: list[float], values: list[bytes], fixed_size: int | None,
           lengths: bytearray | None, last: bool) -> tuple[bytes, float, float, int, int]:
    """One block's bytes, its summed weight (as float32s), its highest weight, lowest and highest length byte."""
    stored_weights = array("f", weights)
    heaviest = max(weights)
    if not heaviest > 0:
        heaviest = 0  # Whoosh's starting maximum
    low, high = _length_range(ids, lengths)
    data = dumps((_deltas(ids), _mini_weights(stored_weights), _mini_values(values, fixed_size)), PICKLE_PROTOCOL)
    level = 0
    if len(data) >= COMPRESS_FROM:
        data, level = compress(data), COMPRESSION
    info = dumps((len(ids), ids[-1], heaviest, level, _rounded(low), _ROUNDED[high]), PICKLE_PROTOCOL)
    size = len(info) + len(data)
    return pack_int(-size if last else size) + info + data, sum(stored_weights), heaviest, low, high


class _TermTable(OrderedHashWriter):
    """Whoosh's term table (an ordered hash file), its rows written together rather than one by one,
    hashed with CRC-32 instead of MD5 (the file names its hash function for readers)."""

    def __init__(self, dbfile):  # OrderedHashWriter's, but for the hash function
        HashWriter.__init__(self, dbfile, hashtype=CRC32_HASH)
        self.index = GrowableArray("H")
        self.lastkey = b""

    def add_sorted(self, rows: list[tuple[bytes, bytes]]) -> None:
        """Add (key, value) rows whose keys follow the last one added, in order."""
        position = self.dbfile.tell()
        parts, starts = [], []
        buckets, hash_of = self.buckets, self.hashfn
        for key, value in rows:
            starts.append(position)
            parts.append(_KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value)
            h = hash_of(key)
            buckets[h & 255].append((h, position))
            position += _KEY_VALUE_LENGTHS.size + len(key) + len(value)
        self.index.extend(starts)
        self.dbfile.write(b"".join(parts))
        if rows:
            self.lastkey = rows[-1][0]


def _length_range(ids: list[int], lengths: bytearray | None) -> tuple[int, int]:
    """The lowest non-zero and the highest length byte of the documents (NO_LENGTH, 0 without lengths)."""
    if lengths is None:
        return NO_LENGTH, 0
    block = [lengths[d] for d in ids]
    low = min(block)
    if not low:  # Whoosh leaves documents without a length out of the minimum
        low = min((b for b in block if b), default=NO_LENGTH)
    return low, max(block)


def _rounded(length_byte: int) -> int:
    return 0 if length_byte == NO_LENGTH else _ROUNDED[length_byte]


def _deltas(ids: list[int]) -> tuple[int, ...]:
    return (ids[0],) if len(ids) == 1 else tuple(map(sub, ids, [0, *ids[:-1]]))


def _mini_weights(weights: array):
    """None when all are 1.0, the one value when all are equal, else all: as Whoosh's W3 blocks."""
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def _mini_values(values: Iterable[bytes], fixed_size: int | None):
    if fixed_size == 0:
        return None
    if fixed_size is None or fixed_size < 0:
        return tuple(values)
    return b"".join(values)
