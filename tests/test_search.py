"""The search stage: query language, matching strategy, facets, grouping, bounds."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from searchapp.backends.embedded import EmbeddedBackend as Search
from searchapp.backends.embedded.query import MAX_EXPANSION
from searchapp.search import InvalidSearch, Limits, make_request

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


@pytest.fixture(scope="module")
def search(web_index):
    return Search(web_index, cache_size=0)


def run(search, q="", per_page=10, **filters):
    return search.search(make_request(q, {k: list(v) for k, v in filters.items()}, per_page=per_page))


def ids(page):
    return [hit.id for hit in page.hits]


def facet_counts(page, name):
    return {v.value: v.count for f in page.facets if f.name == name for v in f.values}


def test_all_words_must_match_and_text_matches_rank_above_title_only_ones(search):
    page = run(search, "putin invitation")
    assert ids(page)[0] == f"{ARTICLE}-p4" and not page.hits[0].partial
    assert page.partial_from == 1, "the only full match, then partial ones"
    everything = run(search, "putin", per_page=20)
    text_matches = [h for h in everything.hits if "<mark>" in h.highlights]
    assert everything.hits[: len(text_matches)] == tuple(text_matches), "title-only hits come after"


def test_title_only_hits_show_the_paragraphs_opening(search):
    hit = next(h for h in run(search, "putin", per_page=20).hits if h.id == f"{ARTICLE}-p2")
    assert "<mark>" not in hit.highlights and hit.highlights.startswith("Rebels led by")
    assert "<mark>Putin</mark>" in hit.title_html


def test_a_short_page_is_filled_with_hits_matching_some_words(search):
    page = run(search, "tartus naval airport")
    assert page.partial_from == 0, "no paragraph has all three words"
    assert ids(page)[0] == f"{ARTICLE}-p10", "the paragraph with most words ranks first"
    assert all(hit.partial for hit in page.hits)
    full = run(search, "tartus naval")
    assert full.hits[0].id == f"{ARTICLE}-p10" and not full.hits[0].partial
    assert full.partial_from == 1 and all(h.partial for h in full.hits[1:])


def test_phrases_exclusion_or_and_field_prefixes(search):
    assert sorted(ids(run(search, '"naval base"'))) == [f"{ARTICLE}-p10", f"{ARTICLE}-p7"]
    assert ids(run(search, '"base naval"')) == []
    assert f"{ARTICLE}-p10" not in ids(run(search, "naval -tartus"))
    assert run(search, "tartus OR damascus").total == 3
    in_section = run(search, 'section:"Building a new Syria" damascus').hits
    assert {h.section for h in in_section if not h.partial} == {"Building a new Syria"}
    assert run(search, "title:economy").total == 3
    hyphenated = run(search, "al-Assad")
    assert hyphenated.total >= 1 and all("Assad" in h.text for h in hyphenated.hits)


def test_the_last_word_matches_as_a_prefix_while_typing(search):
    assert "<mark>Khmeimim</mark>" in search.search(make_request("khmei").with_changes(typing=True)).hits[0].highlights
    complete = search.search(make_request("khmei"))
    assert complete.total == 0 or complete.corrected


def test_a_typo_matches_close_spellings_and_suggests_a_correction(search):
    page = run(search, "tartsu")
    assert not page.corrected and page.suggestion == "tartus"
    assert "<mark>Tartus</mark>" in page.hits[0].highlights
    assert page.hits[0].why == ("matched tartus for tartsu",)


def test_a_short_typo_falls_back_to_the_suggestion_when_nothing_matches(search):
    short = run(search, "putn")  # under 5 letters: no typo allowed, so nothing matches as typed
    assert short.corrected and short.suggestion == "putin" and short.total > 0


@pytest.mark.parametrize("typo", ["tartsu", "tartu", "tarrtus", "tartis", "khmeimmim"])
def test_close_spellings_take_one_edit_before_two(typo):
    """Swapped neighbours, a missing, an extra or a wrong letter are one edit; two edits only when none is."""
    from searchapp.backends.embedded.lexicon import Lexicon
    from searchapp.backends.embedded.spelling import close_spellings

    lexicon = Lexicon(Counter({"tartus": 5, "tarts": 1, "startups": 9, "khmeimim": 2, "khmer": 7}))
    found = [word for word, _ in close_spellings(typo, lexicon, 2)]
    assert found[0] == ("khmeimim" if typo.startswith("k") else "tartus")
    assert "startups" not in found, "the first letter is kept"


def test_facet_counts_are_disjunctive_within_a_facet(search):
    base = run(search, "putin")
    narrowed = run(search, "putin", kind=["quote"])
    assert facet_counts(narrowed, "kind") == facet_counts(base, "kind")
    assert narrowed.total == facet_counts(base, "kind")["quote"]
    assert facet_counts(narrowed, "section") == {"Building a new Syria": 1}


def test_multi_valued_topics_count_each_value(search):
    counts = facet_counts(run(search, "election"), "topic")
    assert counts == {"politics": 5, "business": 3}
    assert run(search, "election", topic=["business"]).total == 3


def test_published_facet_by_month_and_year(search):
    months = facet_counts(run(search), "published")
    assert months == {"2025-02": 20, "2024-03": 2, "2023-11": 3}
    assert run(search, published=["2024"]).total == 2
    assert run(search, published=["2023-11"]).total == 3


def test_sort_by_date(search):
    newest = run(search, "election", per_page=5)
    by_date = search.search(make_request("election", sort="newest"))
    assert [h.published for h in by_date.hits] == sorted((h.published for h in by_date.hits), reverse=True)
    oldest = search.search(make_request("election", sort="oldest"))
    assert oldest.hits[0].published == "2023-11-20"
    assert newest.total == by_date.total == oldest.total


def test_group_by_article_shows_one_hit_each_with_the_rest_counted(search):
    page = search.search(make_request("election", group="article"))
    assert page.total == 2 and len(page.hits) == 2
    assert {h.article_id: h.more_in_article for h in page.hits} == {"web-economy": 2, "web-evil": 1}


def test_paging_and_pages_past_the_end(search):
    first = run(search, "putin", per_page=7)
    third = search.search(make_request("putin", per_page=7, page=3))
    assert first.pages == 3 and len(third.hits) == 20 - 14
    assert not set(ids(first)) & set(ids(third))
    past = search.search(make_request("putin", per_page=7, page=9))
    assert past.hits == () and any("only 3 pages" in n for n in past.notices)


def test_entity_facets_of_the_seed_article(search):
    page = run(search, article=[ARTICLE])
    people = facet_counts(page, "people")
    assert sorted(people) == sorted([
        "Ahmed al-Sharaa", "Vladimir Putin", "Bashar al-Assad", "Asaad al-Shaibani",
        "Mikhail Bogdanov", "Dmitry Peskov", "Andriy Sybiga",
    ])
    assert {"Syria", "Russia", "Damascus", "Tartus", "Khmeimim"} <= set(facet_counts(page, "places"))
    assert {"Hayat Tahrir al-Sham", "Kremlin"} <= set(facet_counts(page, "organisations"))
    sharaa = run(search, people=["Ahmed al-Sharaa"])
    assert sharaa.total == people["Ahmed al-Sharaa"]
    assert all(hit.article_id == ARTICLE for hit in sharaa.hits)


def test_article_view_marks_the_query_and_lists_entities(search):
    view = search.article(ARTICLE, "tartus")
    assert [p.position for p in view.paragraphs] == list(range(1, 21))
    marked = [p for p in view.paragraphs if p.matched]
    assert [p.position for p in marked] == [10] and "<mark>Tartus</mark>" in marked[0].html
    assert "Vladimir Putin" in dict(view.entities)["people"]


@pytest.mark.parametrize("q", ["", "   ", ")))", "a OR OR b", "the of", "-", "title:", '"', "*", "?x", "\x00\x07"])
def test_nonsense_queries_give_a_page_not_an_exception(search, q):
    page = search.search(make_request(q))
    assert page.total >= 0


def test_leading_wildcards_are_refused_and_expansions_capped(search):
    page = run(search, "*a*")
    assert any("cannot start with" in n for n in page.notices)
    from searchapp.backends.embedded.query import parse_query

    with search.snapshots.acquire() as snap:
        expanded = parse_query("a*", snap, typing=False).query
    assert len(list(expanded.leaves())) <= 2 * MAX_EXPANSION


@pytest.mark.parametrize("values, message", [
    (dict(q="x" * 501), "limit is 500"),
    (dict(page="0"), "page must be between"),
    (dict(per_page="1000"), "per_page must be between"),
    (dict(filters={"colour": ["red"]}), "no facet 'colour'"),
    (dict(sort="random"), "sort must be one of"),
    (dict(group="yes please"), "group must be"),
])
def test_invalid_requests_say_what_to_fix(values, message):
    with pytest.raises(InvalidSearch, match=message):
        make_request(**values)


def test_each_search_is_bounded_by_the_time_limit(tmp_path):
    """A huge OR query over a corpus big enough to be slow stops at the limit with the hits so far."""
    from searchapp.backends.embedded.build import build_index

    words = [f"w{n:04d}" for n in range(400)]
    lines = [
        '{"id": "a%d", "title": "t", "text": "%s"}' % (n, " ".join(words[(n * 7 + k) % 400] for k in range(60)))
        for n in range(3000)
    ]
    (tmp_path / "big.jsonl").write_text("\n".join(lines))
    build_index(tmp_path / "index", [tmp_path / "big.jsonl"], entities="off")
    slow = Search(tmp_path / "index", Limits(max_query_length=5000, time_limit=0.005), cache_size=0)
    query = " OR ".join(words[:300])
    started = time.perf_counter()
    page = slow.search(make_request(query, limits=slow.limits))
    elapsed = time.perf_counter() - started
    assert page.timed_out and any("too long" in n for n in page.notices)
    unbounded = Search(tmp_path / "index", Limits(max_query_length=5000, time_limit=60), cache_size=0)
    started = time.perf_counter()
    full = unbounded.search(make_request(query, limits=unbounded.limits))
    assert not full.timed_out
    assert elapsed < time.perf_counter() - started + 1.0


class _ExpiresAfter:
    """A deadline that passes after `checks` checks: where a search stops, without timing."""

    def __init__(self, checks: int):
        self.left, self.expired = checks, False

    def check(self) -> None:
        from searchapp.backends.embedded.matching import TimeUp

        self.left -= 1
        if self.expired or self.left < 0:
            self.expired = True
            raise TimeUp


def test_a_search_stopped_midway_shows_what_matched_some_words_by_then(search, monkeypatch):
    """Defect: a conjunction stopped by the time limit said "the hits found so far" over 0 hits,
    although its first words had matched."""
    full = search.search(make_request("putin", per_page=50))
    monkeypatch.setattr("searchapp.backends.embedded.engine.Deadline", lambda seconds: _ExpiresAfter(3))
    page = search.search(make_request("putin syria kremlin", per_page=50).with_changes(typing=False))
    assert page.timed_out
    assert page.hits and all(hit.partial for hit in page.hits), "what matched some of the words, marked so"
    assert {hit.id for hit in full.hits} <= {hit.id for hit in page.hits}
    assert any("these are the hits found so far" in notice for notice in page.notices)


def test_a_search_stopped_before_anything_matched_says_so(search, monkeypatch):
    monkeypatch.setattr("searchapp.backends.embedded.engine.Deadline", lambda seconds: _ExpiresAfter(0))
    page = search.search(make_request("putin syria").with_changes(typing=False))
    assert page.timed_out and page.total == 0
    assert any("before it found anything" in notice for notice in page.notices)
    assert not any("hits found so far" in notice for notice in page.notices)


def test_results_are_cached_per_index_generation(tmp_path):
    from searchapp.articles import sample_sources
    from searchapp.backends.embedded.build import build_index

    build_index(tmp_path / "index", sample_sources())
    cached = Search(tmp_path / "index", cache_size=8)
    first = cached.search(make_request("putin"))
    assert cached.search(make_request("putin")) is first
    build_index(tmp_path / "index", sample_sources())
    time.sleep(0.6)
    assert cached.search(make_request("putin")) is not first
