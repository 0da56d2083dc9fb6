"""Property tests: whatever the input, the parsers and the search fail only in their own, expected way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from searchapp.articles import Article, ArticleParseError, decode_source, parse_json_article, parse_text_article
from searchapp.backends.embedded import EmbeddedBackend as Search
from searchapp.paragraphs import split_paragraphs
from searchapp.search import FACETS, InvalidSearch, SearchPage, make_request

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like the layout: its markers, quotes, dates, tags, odd whitespace and control characters.
LAYOUT_PIECES = st.sampled_from([
    "\n", "\n\n", "\r\n", "\r", " ", "\t", "\u00a0", "\u2028", "\x0c", "\x00", "By ", "By <u>AFP</u>", "<u>", "</u>",
    "Original url:", "Original url: https://exa mple.com/a", "Related article: ", "Photo: ", "kremlin.ru",
    "February 12, 2025", "12th of March 2025", "2025-02-12T10:00:00Z", "ſept 1, 2025", "'", '"', "“", "”", "‘", "’",
    "Building a new Syria", "and then", "it said.", "<script>alert(1)</script>", "\ufeff", "\ud800",
])
LAYOUT_TEXT = st.lists(st.one_of(LAYOUT_PIECES, st.text(max_size=20)), max_size=30).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
RECORDS = st.fixed_dictionaries({}, optional={
    key: JSON_VALUES | LAYOUT_TEXT for key in ("id", "title", "text", "author", "date", "url", "topic", "source")
})


def _check_article(article: Article) -> None:
    assert isinstance(article, Article)
    assert article.blocks and all(block.text for block in article.blocks)
    for paragraph in split_paragraphs(article, entities="off"):
        assert paragraph.text and paragraph.kind in ("body", "quote", "related")
        paragraph.text.encode("utf-8")  # no lone surrogates reach the index


def _parse_text(text: str) -> None:
    try:
        article = parse_text_article(text, "prop", origin="prop.txt")
    except ArticleParseError:
        return
    _check_article(article)


@PROPERTIES
@given(LAYOUT_TEXT)
@example("Title\n\nBy AFP\n\nſept 12, 2025\n\nBody.")
def test_text_parser_returns_an_article_or_raises_article_parse_error(text):
    _parse_text(text)


@PROPERTIES
@given(st.binary(max_size=400))
@example(b"\xff\xfeT\x00i\x00")
@example(b"Title\r\n\r\nBody \x93quoted\x94 \x81.")
def test_arbitrary_bytes_decode_and_parse_or_raise_article_parse_error(data):
    try:
        text = decode_source(data, Path("prop.txt"))
    except ArticleParseError:
        return
    _parse_text(text)


def _parse_json(line: str) -> None:
    try:
        article = parse_json_article(line, origin="prop.jsonl")
    except ArticleParseError:
        return
    _check_article(article)


@PROPERTIES
@given(st.text(max_size=200))
@example("1" * 5000)
@example("[" * 5000)
@example('{"id": "x", "text": "\\ud800"}')
def test_json_parser_with_arbitrary_strings(line):
    _parse_json(line)


@PROPERTIES
@given(RECORDS)
def test_json_parser_with_arbitrary_objects(record):
    _parse_json(json.dumps(record))


# --- search ------------------------------------------------------------------------------------

FACET_NAMES = st.sampled_from([facet.name for facet in FACETS]) | st.text(max_size=10)
QUERY_PIECES = st.sampled_from([
    " ", "syria", "Syria", "russia", "kremlin", "kremlim", '"', '"strategic ties"', "OR", "AND", "NOT", "-", "(", ")",
    "*", "?", "~", "^", ":", "title:", "section:", "author:", "kind:", "published:", "syr*", "*ria", "a*", "[", "]",
    "{", "}", "to", "\\", "'", "<script>", "\x00", "ſ", "2025", "2025-02",
])  # no lone surrogates: see test_query_with_a_lone_surrogate

QUERIES = st.lists(st.one_of(QUERY_PIECES, st.text(max_size=8)), max_size=12).map("".join)
PARAMETER = st.none() | st.text(max_size=8) | st.integers().map(str) | st.sampled_from(["1", "2", "0", "-1", "1e3", " 3 ", "١"])
FILTER_VALUES = st.lists(
    st.sampled_from(["body", "quote", "related", "AFP", "Building a new Syria", "2025-02", "2025", ""]) | st.text(max_size=12),
    max_size=3,
)


@PROPERTIES
@given(
    q=QUERIES,
    filters=st.dictionaries(FACET_NAMES, FILTER_VALUES, max_size=3),
    sort=st.none() | st.sampled_from(["relevance", "newest", "oldest"]) | st.text(max_size=8),
    page=PARAMETER,
    per_page=PARAMETER,
    group=st.none() | st.booleans() | st.sampled_from(["article", "1", "true", "0", "none", ""]) | st.text(max_size=5),
    typing=st.booleans(),
)
@example(q='"strategic ties" OR kremlin', filters={}, sort=None, page=None, per_page=None, group=None, typing=False)
@example(q="a OR OR b )))", filters={"kind": ["quote"]}, sort="newest", page="1", per_page="3", group="article", typing=True)
def test_search_returns_a_page_or_raises_invalid_search(sample_index, q, filters, sort, page, per_page, group, typing):
    search = _search_on(sample_index)
    try:
        request = make_request(q, filters, sort, page, per_page, group)
        result = search.search(request.with_changes(typing=typing))
    except InvalidSearch as error:
        assert str(error)
        return
    assert isinstance(result, SearchPage)
    assert result.total >= len(result.hits)
    assert len(result.hits) <= request.per_page
    json.dumps(result.to_json())


_SEARCHES: dict[Path, Search] = {}


def _search_on(path: Path) -> Search:
    """One `Search` per index, shared by the examples (as a server shares it across requests)."""
    return _SEARCHES.setdefault(path, Search(path))


@pytest.mark.parametrize("q", ["\udce9*", "caf\udce9*"])
def test_query_with_a_lone_surrogate(sample_index, q):
    try:
        Search(sample_index, cache_size=0).search(make_request(q))
    except InvalidSearch:
        pass
