"""Whoosh's byte formats as `whoosh_compat` writes them: compared with Whoosh's own writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.filedb.structfile import StructFile

from searchapp.articles import ReadReport, read_articles, sample_sources
from searchapp.backends.embedded.analysis import NewsAnalyzer
from searchapp.backends.embedded.schema import make_schema
from searchapp.backends.embedded.whoosh_compat import INDEX_NAME, SearchappCodec, SegmentBuilder
from searchapp.backends.embedded.whoosh_compat.w3_files import _VarBytesWriter
from searchapp.fields import document_fields
from searchapp.paragraphs import split_paragraphs

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = [*sample_sources(), FIXTURES]


def _documents(sources: list[Path]) -> list[dict[str, object]]:
    return [document_fields(p) for a in read_articles(sources, ReadReport()) for p in split_paragraphs(a)]


def _whoosh_reader(folder: Path, documents: list[dict[str, object]], bulk: bool):
    """A reader of an index of `documents`, written by Whoosh's SegmentWriter or by SegmentBuilder."""
    folder.mkdir()
    ix = whoosh_index.create_in(folder, make_schema())
    if bulk:
        builder = SegmentBuilder(ix.storage, ix.schema, SearchappCodec())
        for document in documents:
            builder.add_document(document)
        whoosh_index.TOC(ix.schema, [builder.finish()], 1).write(ix.storage, INDEX_NAME)
    else:
        with ix.writer(limitmb=256, compound=False, codec=SearchappCodec()) as writer:
            for document in documents:
                writer.add_document(**document)
    return whoosh_index.open_dir(folder).reader()


def _blocks(reader, fieldname: str, text: bytes) -> list[tuple]:
    """Each posting block of a term: its header and its (ids, weights, values) as stored."""
    matcher, blocks = reader.postings(fieldname, text), []
    while matcher.is_active():
        matcher._read_data()
        blocks.append((matcher._blocklength, matcher.block_max_id(), matcher.block_max_weight(),
                       matcher.block_min_length(), matcher.block_max_length(), matcher._data))
        matcher._next_block()
    return blocks


def test_segment_builder_writes_what_whoosh_writes(tmp_path, write_articles, readers):
    write_articles(tmp_path / "many", 300, paragraphs=2, words=20, seed=4)  # words in more than one block
    documents = _documents([*SOURCES, tmp_path / "many"])
    documents[5]["title"] = "İstanbul's ΣΟΦΙΑ, U.S. and the the the"  # non-ASCII, repeats, stop words first
    del documents[6]["title"]
    readers += [_whoosh_reader(tmp_path / name, documents, bulk) for name, bulk in (("ours", True), ("theirs", False))]
    ours, theirs = readers
    assert ours.doc_count_all() == theirs.doc_count_all() == len(documents)
    assert list(ours.all_stored_fields()) == list(theirs.all_stored_fields())
    for field in ("title", "text"):
        assert ours.field_length(field) == theirs.field_length(field)
        assert [ours.doc_field_length(n, field) for n in range(len(documents))] == \
               [theirs.doc_field_length(n, field) for n in range(len(documents))]
    for name, field in make_schema().items():
        if field.column_type and theirs.has_column(name):
            assert list(ours.column_reader(name)) == list(theirs.column_reader(name)), name
    terms = list(theirs.all_terms())
    assert list(ours.all_terms()) == terms
    assert max(theirs.doc_frequency(*term) for term in terms) > 128
    for term in terms:
        mine, whoosh = ours.term_info(*term), theirs.term_info(*term)
        assert [mine.weight(), mine.doc_frequency(), mine.min_length(), mine.max_length(), mine.max_weight(),
                mine.min_id(), mine.max_id()] == \
               [whoosh.weight(), whoosh.doc_frequency(), whoosh.min_length(), whoosh.max_length(),
                whoosh.max_weight(), whoosh.min_id(), whoosh.max_id()], term
        assert _blocks(ours, *term) == _blocks(theirs, *term), term


@pytest.mark.parametrize("text", [
    "The harbour, the HARBOUR and the harbours of the U.S. in 2025",
    "a an the of", "", "İstanbul İSTANBUL straße ΣΟΦΙΑΣ café-au-lait al-Assad's", "x " * 300 + "end",
])
def test_term_positions_are_what_the_analyzer_indexes(text):
    analyzer = NewsAnalyzer()
    expected: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, mode="index"):
        expected.setdefault(token.text, []).append(token.pos)
    found, length = analyzer.term_positions(text)
    assert {term: at if isinstance(at, list) else [at] for term, at in found.items()} == expected
    assert length == sum(map(len, expected.values()))


def test_var_bytes_column_is_written_as_whoosh_writes_it(tmp_path):
    values = {0: b"alpha", 3: b"", 4: b"b" * 300, 7: b"gamma"}  # gaps, an empty value, long lengths, none at the end
    written = []
    for name, writer_of in (("ours", lambda f: _VarBytesWriter(f, 4)),
                            ("whoosh", VarBytesColumn(write_offsets_cutoff=4).writer)):
        with open(tmp_path / name, "wb") as handle:
            dbfile = StructFile(handle)
            writer = writer_of(dbfile)
            for docnum, value in values.items():
                writer.add(docnum, value)
            writer.finish(10)
            dbfile.flush()
        written.append((tmp_path / name).read_bytes())
    assert written[0] == written[1]
