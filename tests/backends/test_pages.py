"""Facets, grouping, highlights, sorting, paging and the article view, on every backend."""

from __future__ import annotations

import re

import pytest
from backend_suite import ARTICLE, counts, found, ids, run

from searchapp.search import ArticleNotFound, InvalidSearch, make_request


def test_facet_counts_are_disjunctive_within_a_facet_and_narrow_across(backend):
    everything = run(backend, "")
    quotes = run(backend, "", kind=["quote"])
    assert counts(quotes, "kind") == counts(everything, "kind"), "a facet's own selection leaves its counts"
    assert quotes.total == counts(everything, "kind")["quote"]
    both = run(backend, "", kind=["quote", "related"])
    assert both.total == counts(everything, "kind")["quote"] + counts(everything, "kind")["related"]
    assert sum(counts(quotes, "author").values()) <= quotes.total
    assert counts(quotes, "author") != counts(everything, "author"), "other facets count the selection"
    assert {hit.kind for hit in run(backend, "", per_page=100, kind=["quote"]).hits} == {"quote"}
    selected = [v for f in quotes.facets if f.name == "kind" for v in f.values if v.selected]
    assert [v.value for v in selected] == ["quote"]


def test_facets_of_different_fields_combine_with_and(backend):
    quotes = found(backend, "", kind=["quote"])
    afp = found(backend, "", author=["AFP"])
    assert quotes and afp and found(backend, "", kind=["quote"], author=["AFP"]) == quotes & afp


def test_a_year_selects_its_months(backend):
    months = {m: n for m, n in counts(backend.overview(), "published").items() if m.startswith("2025-")}
    page = run(backend, "", per_page=100, published=["2025"])
    assert months and page.total == sum(months.values()) and all(h.published.startswith("2025-") for h in page.hits)


def test_multi_valued_facets(backend):
    politics = run(backend, "", per_page=100, topic=["politics"])
    assert {h.article_id for h in politics.hits} == {"council-election", "web-evil", "web-economy"}
    business = run(backend, "", per_page=100, topic=["business"])
    assert {h.article_id for h in business.hits} == {"web-economy", "city-rates"}
    assert counts(politics, "topic") == counts(backend.overview(), "topic"), "a facet's own selection"
    assert counts(business, "kind") != counts(politics, "kind")


def test_the_overview_counts_everything(backend):
    overview = backend.overview()
    assert (overview.total, overview.documents, overview.articles) == (51, 51, 13)
    assert sum(counts(overview, "kind").values()) == 51
    assert counts(overview, "people")["Ahmed al-Sharaa"] > 0, "entity facets from the build"


def test_grouping_by_article_counts_the_other_matching_paragraphs(backend):
    flat = run(backend, "election", per_page=100, typing=False)
    grouped = run(backend, "election", per_page=100, typing=False, group="article")
    per_article: dict[str, int] = {}
    for hit in flat.hits:
        per_article[hit.article_id] = per_article.get(hit.article_id, 0) + 1
    assert len(per_article) > 1 and max(per_article.values()) > 1
    assert grouped.total == len(per_article)
    assert {h.article_id: h.more_in_article + 1 for h in grouped.hits} == per_article, "N more"
    first = run(backend, "election", per_page=1, typing=False, group="article")
    second = run(backend, "election", per_page=1, typing=False, group="article", page=2)
    assert first.total == second.total == len(per_article) and first.hits[0].article_id != second.hits[0].article_id


def test_highlights_mark_matches_in_escaped_text(backend):
    page = run(backend, "onerror", typing=False, article=["web-evil"])
    html = str(page.hits[0].highlights)
    assert "&lt;script&gt;" in html and "<script" not in html and "<img" not in html
    assert re.sub(r"</?mark>", "", html).count("<") == 0, "only <mark> is markup"
    assert "onerror" in re.sub(r"</?mark>", "", html) and "<mark>" in html
    title = run(backend, "election markup", typing=False).hits[0].title_html
    assert str(title) == "<mark>Election</mark> &lt;b&gt;report&lt;/b&gt; with <mark>markup</mark>"


def test_long_paragraphs_show_fragments_around_the_matches(backend):
    hit = run(backend, "quorum", typing=False).hits[0]
    assert len(hit.text) > 360
    plain = str(hit.highlights).replace("<mark>", "").replace("</mark>", "")
    assert hit.highlights.count("<mark>quorum</mark>") == 2 and len(plain) < len(hit.text)
    pieces = plain.split(" … ")
    assert len(pieces) == 2 and all(piece in hit.text for piece in pieces)


def test_sorting_by_date(backend):
    newest = [h.published for h in run(backend, "", per_page=100, sort="newest").hits]
    oldest = [h.published for h in run(backend, "", per_page=100, sort="oldest").hits]
    dated = [d for d in newest if d]
    assert len(set(dated)) > 3 and dated == sorted(dated, reverse=True) and [d for d in oldest if d] == sorted(dated)


def test_pages_follow_each_other(backend):
    whole = run(backend, "", per_page=6, sort="oldest").hits
    pages = [run(backend, "", per_page=3, sort="oldest", page=n).hits for n in (1, 2)]
    assert [h.published for h in pages[0] + pages[1]] == [h.published for h in whole]
    assert len({h.id for h in pages[0] + pages[1]}) == 6
    beyond = run(backend, "putin", page=50)
    assert beyond.hits == () and any("only" in n for n in beyond.notices)


def test_the_article_view(backend):
    view = backend.article(ARTICLE, "tartus")
    assert [p.position for p in view.paragraphs] == list(range(1, 21))
    assert {p.id for p in view.paragraphs if p.matched} == {f"{ARTICLE}-p10"}
    assert all(("<mark>" in p.html) == p.matched for p in view.paragraphs)
    # A phrase: OpenSearch marks the phrase only, the embedded index its words anywhere (p2 has "naval").
    phrase = backend.article(ARTICLE, '"naval base"')
    assert {p.id for p in phrase.paragraphs if p.matched} >= {f"{ARTICLE}-p7", f"{ARTICLE}-p10"}
    assert all(("<mark>" in p.html) == p.matched for p in phrase.paragraphs)
    assert view.credit == "kremlin.ru" and view.source == "themoscowtimes.com" and view.author == "AFP"
    assert dict(view.entities)["people"][0] == "Ahmed al-Sharaa"
    plain = backend.article(ARTICLE)
    assert not any(p.matched for p in plain.paragraphs) and "<mark>" not in plain.title_html
    escaped = backend.article("web-evil", "onerror")
    assert "&lt;script&gt;" in escaped.paragraphs[0].html and "<script" not in escaped.paragraphs[0].html


def test_an_unknown_article_is_not_found(backend):
    with pytest.raises(ArticleNotFound):
        backend.article("no-such-article")
    with pytest.raises(ArticleNotFound):
        backend.article("no-such-article", "putin")


@pytest.mark.parametrize("q, filters, options, message", [
    ("x" * 501, {}, {}, "characters long"),
    ("putin", {"colour": ["red"]}, {}, "There is no facet"),
    ("putin", {}, {"sort": "loudest"}, "sort must be one of"),
    ("putin", {}, {"group": "paragraph"}, "group must be"),
    ("putin", {}, {"page": "two"}, "page"),
    ("putin", {}, {"per_page": "1000"}, "per_page"),
])
def test_bad_input_is_refused_before_any_backend_runs(q, filters, options, message):
    with pytest.raises(InvalidSearch, match=message):
        make_request(q, filters, **options)


@pytest.mark.parametrize("q", ["OR", "AND OR NOT", "-", "()", '""', "title:", "((war", "war)", "NOT", "(OR)", '"'])
def test_nonsense_queries_give_a_page_not_an_exception(backend, q):
    page = run(backend, q)
    assert page.total >= 0 and ids(page) == [h.id for h in page.hits if not h.partial]
