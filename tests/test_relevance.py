"""What a query means beyond its letters: typos on every search, prefixes only while typing,
common words, synonyms, "Did you mean" and why a hit is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from searchapp.backends import open_backend
from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.build import build_index
from searchapp.config import load_settings
from searchapp.search import make_request
from searchapp.search.tolerance import QueryOptions, Synonyms, TypoPolicy

ARTICLES = {
    "harbour": ("Harbour news", ["The harbour ferry left at noon.", "Fishing boats filled the harbour."]),
    "harbor": ("Harbor news", ["The harbor ferry was late again."]),
    "spending": ("Budget", ["Government spending rose by four percent.", "The government cut spending on roads."]),
    "typo": ("Wire copy", ["The goverment said nothing more."]),
    "trade": ("Trade talks", ["US trade talks resumed in Geneva.", "Trade between the two countries grew."]),
    "tradestar": ("Tradestar Corp results", ["Tradestar Corp said US profits rose."]),
    "hamlet": ("A play", ["He asked whether to be or not to be, and walked on."]),
    "bank": ("Bank of England", ["The Bank of England held interest rates.", "A bank in England closed."]),
    "usa": ("Washington", ["The U.S. economy grew faster than expected."]),
    "numbers": ("Figures", ["Sales were 12345 units, not 12346."]),
    "cabinet": ("Cabinet", [f"The government met on day {n}." for n in range(25)]),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory, write_article) -> Path:
    folder = tmp_path_factory.mktemp("relevance")
    for name, (title, paragraphs) in ARTICLES.items():
        write_article(folder / "src", name, title, paragraphs)
    build_index(folder / "index", [folder / "src"], entities="off")
    return folder / "index"


def search(index: Path, q: str, typing: bool = False, options: QueryOptions = QueryOptions(), **params):
    backend = EmbeddedBackend(index, cache_size=0, options=options)
    return backend.search(make_request(q, per_page=20, **params).with_changes(typing=typing))


def articles(page) -> list[str]:
    """The articles of the hits, in order, each once."""
    return list(dict.fromkeys(hit.article_id for hit in page.hits))


def full(page) -> list[str]:
    """The hits matching every word (not those filling the page with some of the words)."""
    return [hit.article_id for hit in page.hits if not hit.partial]


def test_a_word_matches_its_close_spellings_and_the_word_as_typed_ranks_first(index):
    page = search(index, "harbour ferry")
    assert full(page) == ["harbour", "harbor"], "exact word first, one typo after"
    assert page.hits[1].why == ("matched harbor for harbour",) and page.hits[0].why == ()
    assert "<mark>harbor</mark>" in page.hits[1].highlights


def test_each_word_of_a_query_may_have_its_typo(index):
    page = search(index, "govrnment spendng")
    assert set(full(page)) == {"spending"}
    assert page.suggestion == "government spending"
    assert "matched government for govrnment" in page.hits[0].why


@pytest.mark.parametrize("q", ["harbour ferr", "12344", '"harbur ferry"', "title:newz"])
def test_no_typos_in_short_words_numbers_or_phrases(index, q):
    """Under 5 letters no typo; none on numbers or inside phrases."""
    page = search(index, q)
    assert page.corrected or not full(page)


def test_the_first_letter_is_never_changed(index):
    assert "harbour" not in articles(search(index, "sarbour"))


def test_typos_can_be_turned_off(index):
    off = QueryOptions(typos=TypoPolicy.parse("off"))
    assert full(search(index, "harbour ferry", options=off)) == ["harbour"]
    assert full(search(index, "harbr ferri", options=QueryOptions(typos=TypoPolicy.parse("6,9")))) == []


def test_bad_typo_settings_are_refused_with_a_message():
    with pytest.raises(ValueError, match="typos must be off, on or two word lengths"):
        load_settings({"SEARCHAPP_TYPOS": "sometimes"})
    with pytest.raises(ValueError, match="need 1 <="):
        load_settings({"SEARCHAPP_TYPOS": "9,5"})


def test_the_last_word_is_a_prefix_only_while_typing(index):
    submitted = search(index, "us trade")
    assert "tradestar" not in articles(submitted)
    typing = search(index, "us trade", typing=True)
    assert "tradestar" in articles(typing)
    assert articles(typing).index("trade") < articles(typing).index("tradestar"), "the word as typed first"


def test_a_query_of_common_words_matches_as_written(index):
    assert search(index, "the").total > 5
    assert articles(search(index, '"to be or not to be"')) == ["hamlet"]
    assert articles(search(index, '"bank of england"')) == ["bank"]
    assert "<mark>Bank</mark> <mark>of</mark> <mark>England</mark>" in search(index, '"bank of england"').hits[0].highlights


def test_common_words_do_not_narrow_a_query_of_other_words(index):
    assert full(search(index, "the harbour of noon")) == full(search(index, "harbour noon")) == ["harbour"]


def test_synonyms_find_each_other_including_phrases(index, tmp_path):
    (tmp_path / "synonyms.txt").write_text("# countries\nunited states, us, u.s., usa, america\n")
    options = QueryOptions(synonyms=Synonyms.load(tmp_path / "synonyms.txt"))
    page = search(index, "united states economy", options=options)
    assert full(page) == ["usa"], "a hit found through a synonym is a full match"
    assert "<mark>U.S</mark>." in page.hits[0].highlights
    assert full(search(index, "united states economy")) == [], "only with the synonyms file"
    assert search(index, '"united states"', options=options).total == 0, "not inside quotes"


def test_a_bad_synonyms_file_is_refused_with_its_line(tmp_path):
    (tmp_path / "synonyms.txt").write_text("united states, us\nlonely\n")
    with pytest.raises(ValueError, match="synonyms.txt:2: a synonym group needs at least two"):
        Synonyms.load(tmp_path / "synonyms.txt")
    with pytest.raises(ValueError, match="cannot read the synonyms file"):
        Synonyms.load(tmp_path / "missing.txt")


def test_the_settings_choose_typos_and_synonyms(index, tmp_path):
    (tmp_path / "synonyms.txt").write_text("united states, u.s.\n")
    settings = load_settings({"SEARCHAPP_SYNONYMS": str(tmp_path / "synonyms.txt"), "SEARCHAPP_TYPOS": "off"})
    backend = open_backend(settings, index, cache_size=0)
    assert full(backend.search(make_request("united states"))) == ["usa"]
    assert full(backend.search(make_request("harbor ferry"))) == ["harbor"]


def test_did_you_mean_proposes_a_word_far_more_used_than_a_rare_spelling(index):
    page = search(index, "goverment")
    assert articles(page)[0] == "typo", "the word as typed first"
    assert page.suggestion == "government"


def test_a_question_ranks_by_how_much_of_it_a_paragraph_holds(index):
    """Four or more words: no wall between all words and some; more of the question ranks higher."""
    page = search(index, "why did the harbour ferry leave at noon today")
    assert page.total > 0 and not any(hit.partial for hit in page.hits), "graded, not tiers"
    assert page.hits[0].id == "harbour-p1", "the paragraph with most of the question first"
    assert {"harbour", "harbor"} <= set(articles(page))


def test_a_short_query_keeps_all_words_first(index):
    page = search(index, "harbour noon")
    assert full(page) == ["harbour"] and all(hit.partial for hit in page.hits[1:])


def test_a_bad_synonyms_file_stops_serve_with_one_line(index, tmp_path, searchapp_command):
    """Checked when the settings load, not first in a server worker (a traceback per worker)."""
    import socket
    import subprocess

    (tmp_path / "synonyms.txt").write_text("lonely\n")
    env = {**os.environ, "SEARCHAPP_SYNONYMS": str(tmp_path / "synonyms.txt")}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = subprocess.run([*searchapp_command, "serve", "--port", port, "--index", str(index)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "synonyms.txt:1: a synonym group needs at least two" in result.stderr
