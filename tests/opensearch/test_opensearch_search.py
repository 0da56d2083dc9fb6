"""OpenSearch against the embedded index on the same articles, and what only OpenSearch does.

The behaviour both backends share is tested once for both in tests/backends/."""

from __future__ import annotations

import pytest

from searchapp.backends.embedded import EmbeddedBackend
from searchapp.search import make_request

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


def run(backend, q="", per_page=10, typing=True, **options):
    filters = {k: list(v) for k, v in options.items() if k not in ("sort", "page", "group")}
    request = make_request(q, filters, per_page=per_page, sort=options.get("sort"), page=options.get("page"),
                           group=options.get("group"))
    return backend.search(request.with_changes(typing=typing))


def counts(page, name):
    return {v.value: v.count for f in page.facets if f.name == name for v in f.values}


@pytest.fixture(scope="module")
def embedded(backend_sources, tmp_path_factory) -> EmbeddedBackend:
    """The embedded index of the same sources, to compare with."""
    backend = EmbeddedBackend(tmp_path_factory.mktemp("embedded") / "index", cache_size=0)
    backend.build(backend_sources)
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


def test_a_pattern_of_one_letter_searches_nothing_and_says_so(os_backend):
    assert run(os_backend, "e*").notices == ("Your query has only very common words; try more specific ones.",)


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

