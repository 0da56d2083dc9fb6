"""Whoosh W3 file formats written by hand: stored-field and column files, posting blocks, the term table.

Byte for byte what Whoosh's own writers write, except where `w3_writer` says otherwise
(tests/test_whoosh_compat.py compares them).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable
from itertools import accumulate
from operator import sub
from pickle import dumps
from struct import Struct

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.system import pack_int, pack_long
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray

BLOCK_SIZE = 128  # postings per block, as Whoosh's W3 codec writes them
PICKLE_PROTOCOL = 5
COMPRESSION = 3  # zlib level, Whoosh's
WINDOW_BITS = 14  # with MEMORY_LEVEL, zlib's state stays under malloc's mmap threshold
MEMORY_LEVEL = 6
COMPRESS_FROM = 160  # bytes of a pickled block: smaller ones gain little and cost a zlib call each
FLUSH_BYTES = 1 << 20  # postings buffered before a write
BUFFERED_VALUES = 4096  # column values buffered before a write
CRC32_HASH = 1  # Whoosh's number for it
NO_LENGTH = 256  # below every length byte: "no length"

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
