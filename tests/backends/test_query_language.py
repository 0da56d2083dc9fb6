"""The query language on every backend: words, phrases, exclusion, OR, field prefixes, typing.

Scores differ between backends (Whoosh's BM25F, OpenSearch's BM25 per field summed), so results
are compared as sets, and an order is asserted only where the query language promises one
(full matches before partial ones, text matches before title-only ones).
"""

from __future__ import annotations

import json

from backend_suite import ARTICLE, counts, found, ids, run

from searchapp.search.tolerance import QueryOptions, Synonyms


def test_all_words_must_match_in_title_or_text(backend):
    page = run(backend, "putin invitation", typing=False)
    assert ids(page) == [f"{ARTICLE}-p4"]
    assert "<mark>Putin</mark>" in page.hits[0].highlights and "<mark>invitation</mark>" in page.hits[0].highlights
    assert found(backend, "naval base") == found(backend, "naval") & found(backend, "base")


def test_text_matches_rank_above_title_only_matches(backend):
    page = run(backend, "putin", per_page=30, typing=False)
    in_text = [hit for hit in page.hits if "<mark>" in hit.highlights]
    assert in_text and page.hits[: len(in_text)] == tuple(in_text)
    title_only = page.hits[len(in_text)]
    assert "<mark>Putin</mark>" in title_only.title_html
    assert title_only.highlights == title_only.text[: len(title_only.highlights)], "its opening, unmarked"


def test_a_short_page_is_filled_with_hits_matching_some_words(backend):
    page = run(backend, "tartus naval airport", typing=False)
    assert page.partial_from == 0 and page.hits[0].id == f"{ARTICLE}-p10", "the paragraph with most words first"
    assert all(hit.partial for hit in page.hits)
    full = run(backend, "tartus naval", typing=False)
    assert full.hits[0].id == f"{ARTICLE}-p10" and not full.hits[0].partial
    assert full.partial_from == 1 and all(h.partial for h in full.hits[1:])
    second = run(backend, "tartus naval", typing=False, page=2)
    assert not {h.id for h in second.hits} & {h.id for h in full.hits} and all(h.partial for h in second.hits)
    assert second.total == full.total == len(found(backend, "tartus OR naval"))


def test_phrases_keep_word_order_and_match_stems(backend):
    assert found(backend, '"naval base"') == {f"{ARTICLE}-p10", f"{ARTICLE}-p7"}
    assert found(backend, '"base naval"') == set()


def test_a_phrase_with_common_words_matches_them_in_place(backend):
    assert found(backend, '"bank of england"') == {"city-rates-p1"}, "not 'a bank in England'"
    assert found(backend, "bank england") == {"city-rates-p1", "city-rates-p2"}
    page = run(backend, '"bank of england"', typing=False)
    assert "<mark>Bank</mark> <mark>of</mark> <mark>England</mark>" in page.hits[0].highlights


def test_a_phrase_of_stop_words_matches(backend):
    """Unquoted, it ranks the phrase first; what follows differs: the embedded index ranks a question of
    four words or more as a whole (paragraphs with some of its words follow), OpenSearch needs all."""
    for q in ('"to be or not to be"', "to be or not to be"):
        page = run(backend, q)
        assert page.hits[0].id == "globe-hamlet-p1", q
        assert "<mark>to</mark> <mark>be</mark> <mark>or</mark> <mark>not</mark>" in page.hits[0].highlights
    assert ids(run(backend, '"to be or not to be"')) == ["globe-hamlet-p1"]
    assert found(backend, '"not to be or"') == set()


def test_stop_words_beside_other_words_are_left_out(backend):
    assert found(backend, "the audience") == found(backend, "audience") == {"globe-hamlet-p2"}


def test_exclusion_or_and_parentheses(backend):
    putin, invitation = found(backend, "putin"), found(backend, "invitation")
    assert putin and invitation
    assert set(ids(run(backend, "putin -invitation", per_page=100))) == putin - invitation
    assert found(backend, "NOT invitation putin") == putin - invitation
    bridge, ferry, council = found(backend, "bridge"), found(backend, "ferry"), found(backend, "council")
    assert bridge and ferry and council
    assert found(backend, "bridge OR ferry") == bridge | ferry
    assert found(backend, "council bridge OR ferry") == council & (bridge | ferry)
    assert found(backend, "(council bridge) OR ferry") == (council & bridge) | ferry


def test_field_prefixes(backend):
    section = run(backend, 'section:"Building a new Syria"', per_page=100)
    assert section.total and {hit.section for hit in section.hits} == {"Building a new Syria"}
    assert section.total == counts(backend.overview(), "section")["Building a new Syria"]
    afp = run(backend, "author:AFP", per_page=100)  # OpenSearch also takes `author:afp`, the embedded index not
    assert afp.total and {hit.author for hit in afp.hits} == {"AFP"}
    title = run(backend, "title:election", per_page=100, typing=False)
    assert title.total and all("election" in hit.title.lower() for hit in title.hits)
    assert found(backend, "turnout") == {"council-election-p2"} and found(backend, "title:turnout") == set()
    assert {h.article_id for h in run(backend, "topic:theatre").hits} == {"globe-hamlet"}
    assert found(backend, "kind:quote putin") == found(backend, "putin", kind=["quote"]) != set()


def test_the_word_being_typed_is_also_a_prefix(backend):
    page = run(backend, "turnout elec")
    assert ids(page) == ["council-election-p2"] and "<mark>election</mark>" in page.hits[0].highlights
    assert ids(run(backend, "turnout elec", typing=False)) == [], "submitted: `elec` is a word as written"
    assert {h.article_id for h in run(backend, "electi*", typing=False).hits} >= {"council-election"}


def test_notices_for_what_was_left_out(backend):
    assert "Words cannot start with * or ?; the wildcard was left out." in run(backend, "*putin").notices
    assert "A quotation mark was not closed; it was ignored." in run(backend, '"naval base').notices
    page = run(backend, "putin", kind=["nonsense"])
    assert page.total == 0 and "No paragraph has kind “nonsense”." in page.notices
    assert dict(page.without) == {"kind": run(backend, "putin").total}


def test_a_word_also_matches_close_spellings_ranked_after_itself(empty_backend, tmp_path):
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join(json.dumps({"id": name, "title": f"Report {name}", "text": text}) for name, text in [
        ("typo", "The goverment fell on Monday."), ("right", "The government fell on Monday."),
        ("short", "The cat sat on the ferry."), ("long", "A parliament vote.")]) + "\n", encoding="utf-8")
    empty_backend.build([source])
    assert ids(run(empty_backend, "government", typing=False)) == ["right-p1", "typo-p1"], "as typed first"
    assert ids(run(empty_backend, "goverment", typing=False)) == ["typo-p1", "right-p1"]
    assert found(empty_backend, "farry") == {"short-p1"}, "one typo from 5 letters"
    # (what finds nothing differs: the embedded index then shows its "Did you mean" query's hits)
    assert found(empty_backend, "cat farry") == {"short-p1"} and found(empty_backend, "cot farry") == set()
    assert found(empty_backend, "parlamant") == {"long-p1"}, "two from 9"
    assert found(empty_backend, '"goverment fell"') == {"typo-p1"}, "none inside quotes"


def test_synonyms_find_each_other_outside_quotes(backend_with, tmp_path):
    groups = tmp_path / "synonyms.txt"
    groups.write_text("united states, usa, america\nbank of england, boe  # comment\n", encoding="utf-8")
    backend = backend_with(QueryOptions(synonyms=Synonyms.load(groups)))
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join(json.dumps({"id": name, "title": "Report", "text": text}) for name, text in [
        ("states", "The United States raised tariffs."), ("america", "America raised tariffs."),
        ("boe", "The BoE held rates."), ("bank", "The Bank of England held rates."),
        ("apart", "Rates rose in states united by trade.")]) + "\n", encoding="utf-8")
    backend.build([source])
    assert found(backend, "usa tariffs") == found(backend, "america tariffs") == {"states-p1", "america-p1"}
    assert found(backend, "boe") == found(backend, "bank of england") == {"boe-p1", "bank-p1"}
    assert found(backend, "rates boe") == {"boe-p1", "bank-p1"}
    assert found(backend, '"boe"') == {"boe-p1"}, "not inside quotes"
    assert found(backend, "usa") == {"states-p1", "america-p1"}, "an entry's words form a phrase"
    marked = {hit.id: str(hit.highlights) for hit in run(backend, "boe", typing=False).hits}
    assert "<mark>Bank</mark> <mark>of</mark> <mark>England</mark>" in marked["bank-p1"]
