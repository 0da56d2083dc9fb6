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

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from itertools import repeat
from operator import sub
from pickle import dumps

from whoosh.analysis import CommaSeparatedTokenizer, IDTokenizer
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import VarBytesColumn
from whoosh.fields import FieldType, Schema, UnknownFieldError
from whoosh.filedb.filestore import Storage
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_uint, pack_ushort

from .w3_files import PICKLE_PROTOCOL, _PostingsWriter, _TermTable, _VarBytesWriter, length_byte, zlib_stored

INDEX_NAME = "MAIN"  # Whoosh's default
# A searched field's postings of one term, in term order: field, term, documents, weights, flat
# word positions and how many positions each posting has.
PostingsSink = Callable[[str, bytes, list[int], list[float], list[int], list[int]], None]
VALUE_CACHE = 50_000  # distinct values of a field remembered with their terms
_consume = deque(maxlen=0).extend


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
