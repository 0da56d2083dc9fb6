"""Searching on a real OpenSearch node: query language, facets, grouping, highlights, paging, articles."""

from __future__ import annotations

import re

import pytest

from searchapp.backends.embedded import EmbeddedBackend
from searchapp.search import ArticleNotFound, make_request

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


def run(backend, q="", per_page=10, typing=True, **options):
    filters = {k: list(v) for k, v in options.items() if k not in ("sort", "page", "group")}
    request = make_request(q, filters, per_page=per_page, sort=options.get("sort"), page=options.get("page"),
                           group=options.get("group"))
    return backend.search(request.with_changes(typing=typing))


def ids(page):
    """The hits matching all the words (not those a short page is filled up with)."""
    return [hit.id for hit in page.hits if not hit.partial]


def counts(page, name):
    return {v.value: v.count for f in page.facets if f.name == name for v in f.values}


@pytest.fixture(scope="module")
def embedded(opensearch_sources, tmp_path_factory) -> EmbeddedBackend:
    """The embedded index of the same sources, to compare with."""
    backend = EmbeddedBackend(tmp_path_factory.mktemp("embedded") / "index", cache_size=0)
    backend.build(opensearch_sources)
    return backend


def test_the_overview_has_the_embedded_indexs_documents_articles_and_facet_counts(os_backend, embedded):
    ours, theirs = os_backend.overview(), embedded.overview()
    assert (ours.total, ours.documents, ours.articles) == (theirs.total, theirs.documents, theirs.articles)
    assert ours.facets == theirs.facets, "same values, counts, order, labels (article titles) and `more`"


@pytest.mark.parametrize("q", ["putin", '"naval base"', "russia syria", "tartus naval airport", "tartus naval",
                               "putin -invitation council", "title:syria", "bridge OR ferry",
                               'section:"Building a new Syria"', "kind:quote", "author:AFP"])
def test_queries_find_what_the_embedded_index_finds(os_backend, embedded, q):
    ours, theirs = run(os_backend, q, per_page=100, typing=False), run(embedded, q, per_page=100, typing=False)
    assert sorted((h.partial, h.id) for h in ours.hits) == sorted((h.partial, h.id) for h in theirs.hits)
    assert (ours.total, ours.partial_from) == (theirs.total, theirs.partial_from)
    assert counts(ours, "kind") == counts(theirs, "kind")


def test_all_words_must_match_in_title_or_text(os_backend):
    page = run(os_backend, "putin invitation", typing=False)
    assert ids(page)[0] == f"{ARTICLE}-p4" and not page.hits[0].partial
    assert "<mark>Putin</mark>" in page.hits[0].highlights and "<mark>invitation</mark>" in page.hits[0].highlights


def test_a_short_page_is_filled_with_hits_matching_some_words(os_backend):
    page = run(os_backend, "tartus naval airport", typing=False)
    assert page.partial_from == 0 and page.hits[0].id == f"{ARTICLE}-p10", "the paragraph with most words first"
    assert all(hit.partial for hit in page.hits)
    full = run(os_backend, "tartus naval", typing=False)
    assert full.hits[0].id == f"{ARTICLE}-p10" and not full.hits[0].partial
    assert full.partial_from == 1 and all(h.partial for h in full.hits[1:])
    second = run(os_backend, "tartus naval", typing=False, page=2)
    assert not {h.id for h in second.hits} & {h.id for h in full.hits} and all(h.partial for h in second.hits)
    assert second.total == full.total == len(ids(run(os_backend, "tartus OR naval", per_page=100, typing=False)))
    assert run(os_backend, "tartus naval", typing=False, group="article").partial_from is None, "not grouped"


def test_text_matches_rank_above_title_only_matches(os_backend):
    page = run(os_backend, "putin", per_page=30, typing=False)
    in_text = [hit for hit in page.hits if "<mark>" in hit.highlights]
    assert in_text and page.hits[: len(in_text)] == tuple(in_text)
    title_only = page.hits[len(in_text)]
    assert "<mark>Putin</mark>" in title_only.title_html
    assert title_only.highlights == title_only.text[: len(title_only.highlights)], "its opening, unmarked"


def test_phrases_keep_word_order_and_match_stems(os_backend):
    assert sorted(ids(run(os_backend, '"naval base"'))) == [f"{ARTICLE}-p10", f"{ARTICLE}-p7"]
    assert ids(run(os_backend, '"base naval"')) == []


def test_a_phrase_of_stop_words_matches(os_backend):
    for q in ('"to be or not to be"', "to be or not to be"):
        page = run(os_backend, q)
        assert ids(page) == ["globe-hamlet-p1"], q
        assert "<mark>to</mark> <mark>be</mark> <mark>or</mark> <mark>not</mark>" in page.hits[0].highlights
    assert ids(run(os_backend, '"not to be or"')) == []


def test_stop_words_beside_other_words_are_left_out(os_backend):
    assert ids(run(os_backend, "the audience", typing=False)) == ids(run(os_backend, "audience", typing=False))


def test_exclusion_or_and_parentheses(os_backend):
    putin = set(ids(run(os_backend, "putin", per_page=100, typing=False)))
    invitation = set(ids(run(os_backend, "invitation", per_page=100, typing=False)))
    assert set(ids(run(os_backend, "putin -invitation", per_page=100))) == putin - invitation
    assert set(ids(run(os_backend, "NOT invitation putin", per_page=100, typing=False))) == putin - invitation
    bridge = set(ids(run(os_backend, "bridge", per_page=100, typing=False)))
    ferry = set(ids(run(os_backend, "ferry", per_page=100, typing=False)))
    assert set(ids(run(os_backend, "bridge OR ferry", per_page=100, typing=False))) == bridge | ferry
    council = set(ids(run(os_backend, "council", per_page=100, typing=False)))
    assert set(ids(run(os_backend, "council bridge OR ferry", per_page=100, typing=False))) == council & (bridge | ferry)
    assert set(ids(run(os_backend, "(council bridge) OR ferry", per_page=100, typing=False))) == (council & bridge) | ferry


def test_field_prefixes(os_backend):
    section = run(os_backend, 'section:"Building a new Syria"', per_page=100)
    assert section.total and {hit.section for hit in section.hits} == {"Building a new Syria"}
    assert section.total == counts(os_backend.overview(), "section")["Building a new Syria"]
    afp = run(os_backend, "author:afp", per_page=100)
    assert afp.total and {hit.author for hit in afp.hits} == {"AFP"}, "keyword prefixes ignore case"
    title = run(os_backend, "title:election", per_page=100, typing=False)
    assert title.total and all("election" in hit.title.lower() for hit in title.hits)
    assert {h.article_id for h in run(os_backend, "topic:theatre").hits} == {"globe-hamlet"}
    assert ids(run(os_backend, "kind:quote putin")) == ids(run(os_backend, "putin", kind=["quote"]))


def test_prefixes_and_the_word_being_typed(os_backend):
    assert {h.article_id for h in run(os_backend, "electi*", typing=False).hits} >= {"council-election"}
    page = run(os_backend, "turnout elec")
    assert ids(page) == ["council-election-p2"] and "<mark>election</mark>" in page.hits[0].highlights
    assert ids(run(os_backend, "turnout elec", typing=False)) == [], "not typing: `elec` is a word"
    assert run(os_backend, "e*").notices == ("Your query has only very common words; try more specific ones.",)


def test_notices_for_what_was_left_out(os_backend):
    assert "Words cannot start with * or ?; the wildcard was left out." in run(os_backend, "*putin").notices
    assert "A quotation mark was not closed; it was ignored." in run(os_backend, '"naval base').notices
    page = run(os_backend, "putin", kind=["nonsense"])
    assert page.total == 0 and "No paragraph has kind “nonsense”." in page.notices
    assert dict(page.without) == {"kind": run(os_backend, "putin").total}


def test_facet_counts_are_disjunctive_within_a_facet_and_narrow_across(os_backend):
    everything = run(os_backend, "")
    quotes = run(os_backend, "", kind=["quote"])
    assert counts(quotes, "kind") == counts(everything, "kind"), "a facet's own selection leaves its counts"
    assert quotes.total == counts(everything, "kind")["quote"]
    both = run(os_backend, "", kind=["quote", "related"])
    assert both.total == counts(everything, "kind")["quote"] + counts(everything, "kind")["related"]
    assert sum(counts(quotes, "author").values()) <= quotes.total and counts(quotes, "author") != counts(everything, "author")
    for hit in run(os_backend, "", per_page=100, kind=["quote"]).hits:
        assert hit.kind == "quote"
    selected = [v for f in quotes.facets if f.name == "kind" for v in f.values if v.selected]
    assert [v.value for v in selected] == ["quote"]


def test_a_year_selects_its_months(os_backend):
    months = {m: n for m, n in counts(os_backend.overview(), "published").items() if m.startswith("2025-")}
    page = run(os_backend, "", per_page=100, published=["2025"])
    assert page.total == sum(months.values()) and all(h.published.startswith("2025-") for h in page.hits)


def test_multi_valued_facets(os_backend):
    politics = run(os_backend, "", per_page=100, topic=["politics"])
    assert {h.article_id for h in politics.hits} == {"council-election", "web-evil", "web-economy"}
    assert counts(politics, "topic")["business"] == 3, "web-economy's three paragraphs are business too"


def test_grouping_by_article_counts_the_other_matching_paragraphs(os_backend):
    flat = run(os_backend, "election", per_page=100, typing=False)
    grouped = run(os_backend, "election", per_page=100, typing=False, group="article")
    per_article: dict[str, int] = {}
    for hit in flat.hits:
        per_article[hit.article_id] = per_article.get(hit.article_id, 0) + 1
    assert grouped.total == len(per_article)
    assert {h.article_id: h.more_in_article + 1 for h in grouped.hits} == per_article
    first = run(os_backend, "election", per_page=1, typing=False, group="article")
    second = run(os_backend, "election", per_page=1, typing=False, group="article", page=2)
    assert first.total == second.total == len(per_article) and first.hits[0].article_id != second.hits[0].article_id


def test_highlights_mark_matches_in_escaped_text(os_backend):
    page = run(os_backend, "onerror", typing=False, article=["web-evil"])
    html = str(page.hits[0].highlights)
    assert "&lt;script&gt;" in html and "<script" not in html and "<img" not in html
    assert re.sub(r"</?mark>", "", html).count("<") == 0, "only <mark> is markup"
    assert "onerror" in re.sub(r"</?mark>", "", html) and "<mark>" in html
    title = run(os_backend, "election markup", typing=False).hits[0].title_html
    assert str(title) == "<mark>Election</mark> &lt;b&gt;report&lt;/b&gt; with <mark>markup</mark>"


def test_long_paragraphs_show_fragments_around_the_matches(os_backend):
    hit = run(os_backend, "quorum", typing=False).hits[0]
    assert len(hit.text) > 360
    plain = str(hit.highlights).replace("<mark>", "").replace("</mark>", "")
    assert hit.highlights.count("<mark>quorum</mark>") == 2 and len(plain) < len(hit.text)
    pieces = plain.split(" … ")
    assert len(pieces) == 2 and all(piece in hit.text for piece in pieces)


def test_sorting_by_date(os_backend):
    newest = [h.published for h in run(os_backend, "", per_page=100, sort="newest").hits]
    oldest = [h.published for h in run(os_backend, "", per_page=100, sort="oldest").hits]
    dated = [d for d in newest if d]
    assert dated == sorted(dated, reverse=True) and [d for d in oldest if d] == sorted(dated)


def test_pages_follow_each_other(os_backend):
    whole = ids(run(os_backend, "", per_page=6, sort="oldest"))
    pages = [ids(run(os_backend, "", per_page=3, sort="oldest", page=n)) for n in (1, 2)]
    assert pages[0] + pages[1] == whole
    beyond = run(os_backend, "putin", page=50)
    assert beyond.hits == () and any("only" in n for n in beyond.notices)


def test_the_article_view(os_backend):
    view = os_backend.article(ARTICLE, '"naval base"')
    assert [p.position for p in view.paragraphs] == list(range(1, len(view.paragraphs) + 1))
    assert {p.id for p in view.paragraphs if p.matched} == {f"{ARTICLE}-p7", f"{ARTICLE}-p10"}
    assert all(("<mark>" in p.html) == p.matched for p in view.paragraphs)
    assert view.credit == "kremlin.ru" and view.source == "themoscowtimes.com"
    assert dict(view.entities)["people"][0] == "Ahmed al-Sharaa"
    plain = os_backend.article(ARTICLE)
    assert not any(p.matched for p in plain.paragraphs) and "<mark>" not in plain.title_html
    with pytest.raises(ArticleNotFound):
        os_backend.article("no-such-article")


@pytest.mark.parametrize("article, q", [("bridge-page-break", "council"), (ARTICLE, "naval base"), (ARTICLE, "")])
def test_the_article_view_matches_the_embedded_one(os_backend, embedded, article, q):
    assert os_backend.article(article, q) == embedded.article(article, q)


def test_the_web_app_serves_the_opensearch_backend(os_backend, opensearch_url):
    from searchapp import create_app

    app = create_app({"rate_limit": 0})
    app.extensions["searchapp.search"] = os_backend
    client = app.test_client()
    answer = client.get('/api/search?q="naval+base"&per_page=5')
    assert answer.status_code == 200 and answer.json["total"] == 2
    assert client.get(f"/articles/{ARTICLE}?q=putin").status_code == 200
    assert client.get("/api/articles/no-such-article").status_code == 404
    assert client.get("/healthz").json["documents"] == os_backend.overview().documents

