"""The array engine against Whoosh itself: same documents, same BM25F scores, same facet counts."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import qparser

from searchapp.articles import sample_sources
from searchapp.backends.embedded.build import build_index
from searchapp.backends.embedded.facet_counts import FacetColumns
from searchapp.backends.embedded.generations import current_generation
from searchapp.backends.embedded.matching import (
    Scored,
    best,
    contains,
    first_in_order,
    intersect,
    sort_ranks,
    union_docs,
)
from searchapp.backends.embedded.query import _parser
from searchapp.backends.embedded.snapshot import Snapshots
from searchapp.backends.embedded.term_arrays import SegmentArrays
from searchapp.backends.embedded.update import update_index
from searchapp.backends.embedded.whoosh_compat import raw_postings
from searchapp.search.facets import FACETS

FIXTURES = Path(__file__).resolve().parent / "fixtures"
QUERIES = [
    "putin", "russia syria", "russia OR bakery", "title:putin", "syria -russia", "assad kremlin OR damascus",
    '"president vladimir"', '"interests of the syrian"', '"bashar al assad" syria', '"syrian interests"', "rebels (syria OR russia) -putin", "nothingmatchesthis", "bridge*",
]


def _whoosh_scores(searcher, q) -> dict[int, float]:
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}


def _snapshot(path: Path):
    return Snapshots(path).acquire()


@pytest.fixture(scope="module", params=["written by a build", "written by a build and an update"])
def arrays_index(sample_index, tmp_path_factory, request) -> Path:
    """The sample index as one build wrote it, or as a build of the sample and an update that adds
    the fixtures and replaces one article wrote it (two segments, deleted paragraphs)."""
    if request.param == "written by a build":
        return sample_index
    base = tmp_path_factory.mktemp("arrays")
    sources = base / "sources"
    shutil.copytree(FIXTURES, sources)
    path = base / "index"
    build_index(path, [*sample_sources(), sources])
    (sources / "bakery-cp1252.txt").write_text("Bakery news\n\nThe bakery on the harbour sells bread to Russia.\n")
    update_index(path, [sources])
    return path


def test_term_arrays_hold_every_posting_of_the_searched_fields(arrays_index):
    generation = current_generation(arrays_index)
    with _snapshot(arrays_index) as snap:
        for segment, _ in snap.searcher().reader().leaf_readers():
            arrays = SegmentArrays.of(generation, segment.segment().segment_id())
            for fieldname in ("title", "text"):
                terms = list(segment.lexicon(fieldname))
                assert terms
                for term in terms:
                    expected = list(raw_postings(segment, fieldname, term).items_as("weight"))  # deleted ones too
                    docs, weights = arrays.postings(fieldname, term)
                    assert list(zip(docs.tolist(), weights.tolist())) == expected, term
                    positions, position_docs = arrays.positions(fieldname, term)
                    expected_positions = [(doc, position)
                                          for doc, found in raw_postings(segment, fieldname, term).items_as("positions")
                                          for position in found]
                    assert list(zip(position_docs.tolist(), positions.tolist())) == expected_positions, term
                assert len(arrays.postings(fieldname, b"zzznotaterm")[0]) == 0


@pytest.mark.parametrize("with_arrays", [False, True], ids=["whoosh blocks", "term arrays"])
@pytest.mark.parametrize("text", QUERIES)
def test_documents_and_scores_are_whooshs(arrays_index, text, with_arrays, tmp_path, caplog):
    if not with_arrays:  # a damaged index: the search reads Whoosh's blocks instead, and says so
        shutil.copytree(arrays_index, tmp_path / "index", symlinks=True)
        arrays_index = tmp_path / "index"
        for folder in current_generation(arrays_index).glob("arrays-*"):
            shutil.rmtree(folder)
    with _snapshot(arrays_index) as snap:
        searcher = snap.searcher()
        q = _parser(searcher.schema, qparser.AndGroup).parse(text)
        found = snap.postings.evaluate(q)
        expected = _whoosh_scores(searcher, q)
        assert found.docs.tolist() == sorted(expected)
        # A phrase is scored as the sum of its words (not Whoosh's span score); a raw prefix is not
        # scored (the search expands prefixes into words first).
        if not any(mark in text for mark in '"*'):
            assert found.scores.tolist() == pytest.approx([expected[d] for d in found.docs.tolist()], rel=1e-5)
    assert with_arrays or "term arrays of segment" in caplog.text


def test_deleted_paragraphs_never_match(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for folder in [*sample_sources(), FIXTURES]:
        for path in folder.glob("*.txt"):
            (sources / path.name).write_bytes(path.read_bytes())
    build_index(tmp_path / "index", [sources])
    (sources / "bakery-cp1252.txt").unlink()
    update_index(tmp_path / "index", [sources])
    with _snapshot(tmp_path / "index") as snap:
        searcher, postings = snap.searcher(), snap.postings
        assert searcher.doc_count() < searcher.doc_count_all(), "the update left deleted paragraphs in the segment"
        assert postings.everything().tolist() == sorted(searcher.reader().all_doc_ids())
        assert len(postings.term("text", "bakeri")) == 0
        q = _parser(searcher.schema, qparser.AndGroup).parse("award OR russia")
        assert postings.evaluate(q).docs.tolist() == sorted(_whoosh_scores(searcher, q))


def test_facet_counts_equal_counting_stored_values(sample_index):
    rng = random.Random(7)
    with _snapshot(sample_index) as snap:
        searcher = snap.searcher()
        columns = FacetColumns(searcher.reader())
        stored = [searcher.stored_fields(n) for n in range(searcher.doc_count_all())]
        for _ in range(20):
            docs = np.array(sorted(rng.sample(range(len(stored)), rng.randint(0, len(stored)))), dtype=np.int32)
            for spec in FACETS:
                if spec.field == "month":
                    values = [[stored[d].get("published", "")[:7]] for d in docs]
                else:
                    values = [str(stored[d].get(spec.field, "")).split(",") if spec.multi
                              else [str(stored[d].get(spec.field, ""))] for d in docs]
                expected = Counter(v for vs in values for v in vs if v)
                counts = columns.count(spec, docs)
                assert len(counts) == len(expected), spec.name
                assert all(counts.get(value) == n for value, n in expected.items()), spec.name
                assert counts.ordered(3, by_value=False) == sorted(expected.items(), key=lambda i: (-i[1], i[0]))[:3]


def test_best_breaks_ties_by_document_number():
    scored = Scored(np.array([2, 5, 7, 9, 11], dtype=np.int32), np.array([1.0, 3.0, 3.0, 0.5, 3.0], dtype=np.float32))
    assert scored.docs[best(scored, 3)].tolist() == [5, 7, 11]
    assert scored.docs[best(scored, 10)].tolist() == [5, 7, 11, 2, 9]


def test_date_order_is_by_each_key_in_turn():
    rank = sort_ranks(np.array([2, 1, 2, 1]), np.array([0, 1, 1, 0]))
    assert rank.tolist() == [2, 1, 3, 0]
    docs = np.array([0, 1, 2, 3], dtype=np.int32)
    assert docs[first_in_order(docs, rank, 2)].tolist() == [3, 1]


documents = st.lists(st.integers(0, 199), max_size=200).map(lambda v: np.array(sorted(set(v)), dtype=np.int32))


@settings(max_examples=200, deadline=None)
@given(documents, documents, documents, st.sampled_from([200, 100_000]))
def test_set_operations_equal_pythons(a, b, c, size):
    """Sparse (sorting) and dense (mask) paths alike: `size` decides which one runs."""
    assert contains(a, b, size).tolist() == [x in set(a.tolist()) for x in b.tolist()]
    assert intersect(a, [b, c], size).tolist() == sorted(set(a.tolist()) & set(b.tolist()) & set(c.tolist()))
    assert union_docs([a, b, c], size).tolist() == sorted(set(a.tolist()) | set(b.tolist()) | set(c.tolist()))


def test_snippet_fragments_are_whooshs():
    """Fragments cut and chosen as Whoosh's ContextFragmenter and basic scorer would (no tie for third place here)."""
    from whoosh import highlight

    from searchapp.backends.embedded.analysis import NewsAnalyzer
    from searchapp.search.highlighting import BETWEEN, WordTerms, snippet

    analyzer = NewsAnalyzer()
    filler = "the council met again on a grey and windy morning to talk about other things " * 2
    text = (f"Ferry <services> resumed. {filler} Ferries & ferry workers welcomed the services plan. {filler}"
            f"A single ferry sailed. {filler} The end of ferry services.")
    terms = {"ferri", "servic"}

    class Formatter(highlight.Formatter):
        between = BETWEEN

        def format_token(self, text, token, replace=False):
            return f"<mark>{highlight.htmlescape(highlight.get_text(text, token, replace), quote=False)}</mark>"

        def _text(self, text):
            return highlight.htmlescape(text, quote=False)

    expected = highlight.highlight(text, frozenset(terms), analyzer,
                                   highlight.ContextFragmenter(maxchars=220, surround=60), Formatter(), top=3)
    word_terms = WordTerms(analyzer.query_term)
    assert str(snippet(text, terms, word_terms)) == expected
    assert "&lt;services&gt;" not in expected and "<mark>Ferries</mark> &amp; <mark>ferry</mark>" in expected


def test_the_word_cache_never_loses_a_word_another_thread_is_reading(monkeypatch):
    """Defect: a full word cache was cleared in place, so a request between filling it and
    reading it found its words gone (a KeyError, a 500), now likelier as one cache serves every
    index version."""
    from searchapp.search.highlighting import WordTerms

    monkeypatch.setattr(WordTerms, "LIMIT", 2)
    calls = []

    def term_of(word: str) -> str:
        calls.append(word)
        if len(calls) == 4:  # the second word of the second call: another request finds the cache full
            word_terms.words("other")
        return word.upper()

    word_terms = WordTerms(term_of)
    word_terms.words("x y")  # two words: at the limit, not over
    assert word_terms.words("alpha beta")[1] == ["ALPHA", "BETA"]
    assert "other" in calls


def test_a_very_long_word_is_found_without_widening_the_term_arrays(tmp_path):
    long_word = "x" * 300
    (tmp_path / "odd.jsonl").write_text(
        '{"id": "odd", "title": "Odd", "text": "A %s token and a plain harbour."}\n'
        '{"id": "even", "title": "Even", "text": "Another plain harbour."}\n' % long_word)
    build_index(tmp_path / "index", [tmp_path / "odd.jsonl"], entities="off")
    generation = current_generation(tmp_path / "index")
    (terms_file,) = generation.glob("arrays-*/text.terms.npy")
    assert np.load(terms_file).dtype.itemsize <= 64
    with _snapshot(tmp_path / "index") as snap:
        assert len(snap.postings.term("text", long_word)) == 1
        assert len(snap.postings.term("text", "harbour")) == 2
