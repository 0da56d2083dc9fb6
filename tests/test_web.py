"""The web layer through Flask's test client: pages, fragments, the API, bad input, escaping, headers."""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webapp import EVIL_TEXT, make_app

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


@pytest.fixture()
def app(web_index):
    return make_app(web_index)


@pytest.fixture()
def client(app):
    return app.test_client()


def htmx(client, url: str, **headers):
    return client.get(url, headers={"HX-Request": "true", **headers})


# --- the API -----------------------------------------------------------------------


def test_api_search_returns_the_documented_shape(client):
    data = client.get("/api/search?q=putin&per_page=3").get_json()
    assert set(data) >= {"query", "total", "page", "hits", "facets", "suggestion"}
    assert data["query"] == "putin" and data["page"] == 1 and len(data["hits"]) == 3
    hit = data["hits"][0]
    assert set(hit) >= {"id", "article_id", "title", "position", "section", "kind",
                        "published", "url", "text", "highlights", "score"}
    assert hit["article_id"] == ARTICLE
    assert "<mark>Putin</mark>" in hit["highlights"]
    assert hit["title_highlights"] == "Syria Leader Stresses 'Strong Strategic Ties' in Call With Russia's <mark>Putin</mark>"
    assert {v["value"] for v in data["facets"]["kind"]} == {"body", "quote", "related"}
    assert all(set(v) >= {"value", "count", "selected"} for v in data["facets"]["kind"])


def test_api_marks_selected_facet_values_and_keeps_counts_disjunctive(client):
    everything = client.get("/api/search?q=putin").get_json()
    quotes = client.get("/api/search?q=putin&kind=quote").get_json()
    kinds = {v["value"]: v for v in quotes["facets"]["kind"]}
    assert kinds["quote"]["selected"] and not kinds["body"]["selected"]
    assert {k: v["count"] for k, v in kinds.items()} == {
        v["value"]: v["count"] for v in everything["facets"]["kind"]
    }
    assert quotes["total"] == kinds["quote"]["count"] < everything["total"]
    assert all(hit["kind"] == "quote" for hit in quotes["hits"])


def test_two_values_of_one_facet_combine_with_or(client):
    quote = client.get("/api/search?q=putin&kind=quote").get_json()["total"]
    related = client.get("/api/search?q=putin&kind=related").get_json()["total"]
    both = client.get("/api/search?q=putin&kind=quote&kind=related").get_json()["total"]
    assert both == quote + related


def test_different_facets_combine_with_and(client):
    data = client.get("/api/search?q=election&topic=business&source=example.org").get_json()
    assert data["total"] >= 1
    assert all(hit["article_id"] == "web-economy" for hit in data["hits"])


def test_group_by_article_counts_more_paragraphs(client):
    data = client.get("/api/search?q=election&group=article").get_json()
    ids = [hit["article_id"] for hit in data["hits"]]
    assert len(ids) == len(set(ids)) == data["total"]
    evil = next(hit for hit in data["hits"] if hit["article_id"] == "web-evil")
    assert evil["more_in_article"] == 1


def test_per_page_is_capped(client):
    assert client.get("/api/search?q=putin&per_page=100").status_code == 200
    response = client.get("/api/search?q=putin&per_page=101")
    assert response.status_code == 400
    assert "per_page" in response.get_json()["error"]


def test_api_article_returns_paragraphs_in_order(client):
    data = client.get(f"/api/articles/{ARTICLE}").get_json()
    assert data["title"].startswith("Syria Leader Stresses")
    assert [p["position"] for p in data["paragraphs"]] == list(range(1, 21))
    assert data["url"].endswith("russias-putin-a87973")


def test_healthz_reports_documents_and_build_time(client):
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok"
    assert data["documents"] == 20 + 2 + 3
    assert data["built_at"]


# --- pages and fragments -----------------------------------------------------------


def test_full_page_and_fragment_come_from_the_same_templates(client):
    page = client.get("/search?q=putin")
    fragment = htmx(client, "/search?q=putin")
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.text and "<html" not in fragment.text
    assert 'id="search-form"' in page.text and 'id="search-form"' not in fragment.text
    hits = re.findall(r'data-id="([^"]+)"', page.text)
    assert hits and hits == re.findall(r'data-id="([^"]+)"', fragment.text)
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_history_restore_gets_the_full_page(client):
    response = htmx(client, "/search?q=putin", **{"HX-History-Restore-Request": "true"})
    assert "<html" in response.text


def test_links_are_real_urls_that_work_without_javascript(client):
    page = client.get("/search?q=putin").text
    facet_link = re.search(r'href="(/search\?q=putin&amp;kind=quote)"', page)
    assert facet_link, "facet values are plain links"
    narrowed = client.get(facet_link.group(1).replace("&amp;", "&"))
    assert narrowed.status_code == 200 and "Kind: Quote" in narrowed.text
    assert 'href="/search?q=putin&amp;sort=newest"' in page


def test_selected_filters_show_as_removable_chips(client):
    page = client.get("/search?q=putin&kind=quote&section=Building+a+new+Syria").text
    chips = re.findall(r'class="chip" href="([^"]+)"', page)
    assert len(chips) == 2
    assert "/search?q=putin&amp;section=Building+a+new+Syria" in chips
    assert "/search?q=putin&amp;kind=quote" in chips


def test_hit_links_open_the_article_at_the_paragraph(client):
    page = client.get("/search?q=tartus").text
    link = re.search(r'class="hit-title"><a href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link == f"/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10"
    article = client.get(link.split("#")[0])
    assert article.status_code == 200
    assert f'id="{ARTICLE}-p10"' in article.text
    assert "<mark>Tartus</mark>" in article.text
    assert 'href="/search?q=tartus"' in article.text
    assert "https://www.themoscowtimes.com/2025/02/12/" in article.text


def test_kinds_carry_one_label_in_the_facet_the_hits_the_article_and_the_api(client):
    page = client.get("/search?q=putin&per_page=100").text
    facet = dict(re.findall(r'data-facet="kind" data-value="(\w+)"><span class="label">([^<]+)</span>', page))
    assert set(facet) == {"body", "quote", "related"}
    on_hits = set(re.findall(r'<span class="kind kind-(\w+)">([^<]+)</span>', page))
    assert {kind for kind, _ in on_hits} == set(facet)
    assert on_hits == set(facet.items())
    api = client.get("/api/search?q=putin").get_json()
    assert {v["value"]: v["label"] for v in api["facets"]["kind"]} == facet
    article = client.get(f"/articles/{ARTICLE}").text
    on_article = set(re.findall(r'<span class="kind kind-(\w+)">([^<]+)</span>', article))
    assert on_article == {("related", facet["related"])}


def test_no_query_shows_the_corpus_at_a_glance(client):
    page = client.get("/").text
    assert "3 articles, 25 paragraphs" in page
    assert "Building a new Syria" in page


def test_did_you_mean_is_a_link(client):
    page = client.get("/search?q=putn").text
    assert re.search(r'Did you mean <a href="/search\?q=putin"', page)
    assert "<mark>Putin</mark>" in page


def test_zero_hits_suggests_dropping_a_filter(client):
    page = client.get("/search?q=tartus&kind=quote").text
    assert "Nothing found" in page
    assert re.search(r'href="/search\?q=tartus">without Kind</a> \(1 hit\)', page)


@pytest.mark.parametrize("url", [
    "/", "/search?q=putin", "/search?q=election&group=article", f"/articles/{ARTICLE}?q=tartus",
    "/articles/no-such-article", "/search?page=-1", "/embed?q=putin", "/embed/demo",
])
def test_aria_references_point_at_elements_of_the_page(client, url):
    page = client.get(url).text
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    refs = re.findall(r'\baria-(?:controls|labelledby|describedby|owns)="([^"]+)"', page)
    assert refs, "the page has ARIA references to check"
    assert {ref for value in refs for ref in value.split()} - ids == set()


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    '/search?q="unbalanced quote',
    "/search?q=title:",
    "/search?q=title:%20putin",
    "/search?q=" + "x" * 499,
    "/search?q=put%00in%07%1b",
    "/search?q=a%20OR%20OR%20b",
    "/search?q=)))",
    "/search?q=*a*",
    "/search?q=putin&kind=nonsense",
])
def test_odd_queries_still_give_a_usable_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="q"' in response.text


@pytest.mark.parametrize("url, message", [
    ("/search?q=" + "x" * 5_000, "the limit is 500"),
    ("/search?page=-1", "page must be between 1 and 1000"),
    ("/search?page=1000000000", "page must be between 1 and 1000"),
    ("/search?page=two", "page must be a whole number"),
    ("/search?colour=red", "Unknown parameter 'colour'"),
    ("/search?sort=sideways", "sort must be one of"),
    ("/search?per_page=0", "per_page must be between"),
    ("/search?sort=", "sort must be one of"),
    ("/search?page=", "page must be a whole number"),
    ("/search?per_page=%205", "per_page must be a whole number"),
    ("/search?page=%D9%A3", "page must be a whole number"),
    ("/search?page=1_0", "page must be a whole number"),
    ("/search?kind=" + "x" * 201, "kind takes at most 50 values of at most 200 characters"),
    ("/search?q=" + "%01" * 501, "the limit is 500"),
])
def test_bad_parameters_get_a_400_with_a_helpful_message(client, url, message):
    page = client.get(url)
    assert page.status_code == 400
    assert message in html.unescape(page.text)
    assert 'id="q"' in page.text, "the page stays usable"
    api = client.get(url.replace("/search", "/api/search"))
    assert api.status_code == 400 and message in api.get_json()["error"]


@pytest.mark.parametrize("group", ["true", "1", "yes", "false", "0", "none", "Article"])
def test_group_is_article_or_nothing(client, group):
    for path in ("/api/search", "/search", "/embed"):
        response = client.get(f"{path}?q=putin&group={group}")
        assert response.status_code == 400, path
        assert "group must be 'article' or empty" in html.unescape(response.text)


def test_group_links_of_the_page_work(client):
    page = client.get("/search?q=election").text
    grouped = re.search(r'class="group-toggle" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert grouped == "/search?q=election&group=article"
    grouped_page = client.get(grouped)
    assert grouped_page.status_code == 200
    ungrouped = re.search(r'class="group-toggle" href="([^"]+)"', grouped_page.text).group(1)
    assert client.get(ungrouped.replace("&amp;", "&")).status_code == 200
    assert client.get("/api/search?q=election&group=").status_code == 200


@pytest.mark.parametrize("name", ["q", "sort", "page", "per_page", "group"])
def test_a_single_valued_parameter_given_twice_is_refused(client, name):
    value = {"q": "putin", "sort": "newest", "page": "1", "per_page": "5", "group": "article"}[name]
    response = client.get(f"/api/search?{name}={value}&{name}={value}")
    assert response.status_code == 400
    assert f"give {name} once" in response.get_json()["error"]


def test_an_over_long_url_gets_414_as_json_from_the_api_and_as_a_page_elsewhere(client):
    long_value = "x" * 8000
    api = client.get(f"/api/search?q=putin&kind={long_value}")
    assert api.status_code == 414 and api.mimetype == "application/json"
    assert api.get_json() == {"error": api.get_json()["error"], "status": 414}
    assert "8,000" in api.get_json()["error"]
    assert client.get(f"/api/articles/{ARTICLE}?q={long_value}").get_json()["status"] == 414
    page = client.get(f"/search?q=putin&kind={long_value}")
    assert page.status_code == 414 and page.mimetype == "text/html" and 'id="q"' in page.text
    just_fits = "/api/search?q=putin&kind=" + "x" * (8000 - len("/api/search?q=putin&kind="))
    assert client.get(just_fits).status_code == 400, "up to the limit, the parameters decide"


@pytest.mark.parametrize("url, message", [
    (f"/api/articles/{ARTICLE}?colour=red", "Unknown parameter 'colour'"),
    (f"/api/articles/{ARTICLE}?q=a&q=b", "give q once"),
    (f"/api/articles/{ARTICLE}?q=" + "x" * 501, "the limit is 500"),
])
def test_the_article_api_takes_only_q(client, url, message):
    response = client.get(url)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_doubled_slashes_in_an_article_id_are_not_redirected(client):
    for url in ("/api/articles/%2Fx", "/api/articles/a//b", "/api/articles//x"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "application/json", url


def test_htmx_gets_the_error_as_a_fragment(client):
    response = htmx(client, "/search?page=-1")
    assert response.status_code == 400
    assert "<html" not in response.text and "page must be between" in response.text


def test_unknown_facet_value_says_so(client):
    data = client.get("/api/search?q=putin&kind=nonsense").get_json()
    assert data["total"] == 0
    assert any("nonsense" in notice for notice in data["notices"])


def test_unknown_article_is_a_404(client):
    assert client.get("/articles/no-such-article").status_code == 404
    assert "no-such-article" in client.get("/articles/no-such-article").text
    api = client.get("/api/articles/no-such-article")
    assert api.status_code == 404 and "no-such-article" in api.get_json()["error"]


def test_path_tricks_cannot_escape(client):
    assert client.get("/articles/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/static/..%2F..%2Fpyproject.toml").status_code == 404


@pytest.mark.parametrize("url", ["/search?q=putin", "/api/search?q=putin", f"/articles/{ARTICLE}",
                                 f"/api/articles/{ARTICLE}", "/healthz", "/embed", "/widget.js"])
def test_only_get_and_head_are_accepted_and_405_says_so_in_allow(client, url):
    assert client.head(url).status_code == 200
    for method in ("POST", "DELETE", "PUT", "PATCH", "TRACE"):
        response = client.open(url, method=method)
        assert response.status_code == 405, method
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}, method


def test_missing_index_says_how_to_build_one(tmp_path):
    client = make_app(tmp_path / "nothing-here").test_client()
    page = client.get("/search?q=putin")
    assert page.status_code == 503
    assert "searchapp index build" in page.text
    assert client.get("/api/search?q=putin").status_code == 503


# --- escaping and headers --------------------------------------------------------------


def test_article_markup_is_shown_inert(client):
    page = client.get("/search?q=appeared").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    api = client.get("/api/search?q=appeared").get_json()
    assert api["hits"][0]["text"] == EVIL_TEXT
    assert "<script>" not in api["hits"][0]["highlights"]
    article = client.get("/articles/web-evil").text
    assert "<script>alert" not in article and "&lt;script&gt;" in article
    assert "Election &lt;b&gt;report&lt;/b&gt; with markup" in article


def test_query_text_is_escaped(client):
    page = client.get('/search?q=<script>alert(1)</script>').text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_security_headers(client):
    response = client.get("/search?q=putin")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "<script>" not in response.text.replace("<script src=", "")


def test_cors_answers_only_allowed_origins(web_index):
    client = make_app(web_index, embed_origins=("http://allowed.test",)).test_client()
    allowed = client.get("/api/search?q=putin", headers={"Origin": "http://allowed.test"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://allowed.test"
    other = client.get("/api/search?q=putin", headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_rate_limit_answers_429_with_retry_after(web_index):
    client = make_app(web_index, rate_limit=3).test_client()
    statuses = [client.get("/api/search?q=putin").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    limited = client.get("/search?q=putin")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_the_production_server_never_runs_in_debug_mode(web_index, monkeypatch):
    from searchapp.server import production_app

    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("SEARCHAPP_INDEX", str(web_index))
    app = production_app()
    assert app.debug is False

    def fail(request):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(app.extensions["searchapp.search"], "search", fail)
    response = app.test_client().get("/search?q=putin")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Traceback" not in response.text and "internal detail" not in response.text


@pytest.fixture()
def gunicorn_url(web_index, searchapp_command, tmp_path):
    """`searchapp serve` (gunicorn, one worker) on a free port of 127.0.0.1; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([*searchapp_command, "serve", "--port", str(port), "--workers", "1",
                               "--index", str(web_index)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def _status_type_body(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get_content_type(), error.read()


def test_gunicorn_lets_the_app_answer_over_long_urls(gunicorn_url):
    """Past gunicorn's default 4094-byte request line, the app still answers (400 or its JSON 414)."""
    base = gunicorn_url + "/api/search?q=putin&kind="
    status, kind, body = _status_type_body(base + "x" * (6000 - len(base)))
    assert (status, kind) == (400, "application/json") and b"kind takes at most" in body
    status, kind, body = _status_type_body(base + "x" * 8100)
    assert (status, kind) == (414, "application/json") and json.loads(body)["status"] == 414
    status, kind, _ = _status_type_body(base + "x" * 9000)
    assert (status, kind) == (414, "text/html"), "past 8190 bytes gunicorn answers, as the description says"


PARAMS = st.sampled_from(["q", "page", "per_page", "sort", "group", "kind", "section", "topic",
                          "published", "article", "people", "x", "q[]", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.lists(st.tuples(PARAMS, st.text(max_size=80)), max_size=6), fragment=st.booleans())
def test_arbitrary_parameters_never_cause_a_server_error(client, params, fragment):
    query = urlencode(params)
    headers = {"HX-Request": "true"} if fragment else {}
    for path in ("/search", "/api/search"):
        response = client.get(f"{path}?{query}", headers=headers)
        assert response.status_code in (200, 400), (path, params, response.status_code)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(article_id=st.text(min_size=1, max_size=60), q=st.text(max_size=60))
def test_arbitrary_article_ids_are_found_or_404(client, article_id, q):
    response = client.get(f"/api/articles/{quote(article_id, safe='')}?{urlencode({'q': q})}")
    assert response.status_code in (200, 404)
    assert response.mimetype == "application/json"


def test_the_openapi_description_matches_the_api(client):
    with client.get("/static/openapi.json") as response:
        spec = response.get_json()
    documented = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    from searchapp.search.facets import FACETS_BY_NAME
    from searchapp.web.params import CONTROL_PARAMS

    assert documented == set(CONTROL_PARAMS) | set(FACETS_BY_NAME)
    required = spec["components"]["schemas"]["Hit"]["required"]
    hit = client.get("/api/search?q=putin").get_json()["hits"][0]
    assert set(required) <= set(hit)


def test_the_last_word_is_a_prefix_only_for_requests_sent_while_typing(client):
    """Submitted searches, links and plain API calls take the words as they are (`khmei` is no word);
    the page's as-you-type requests and API callers that ask (the widget) also match what it begins."""
    fragment = {"HX-Request": "true"}
    typed = client.get("/search?q=khmei", headers={**fragment, "X-Searchapp-Typing": "1"})
    assert b"<mark>Khmeimim</mark>" in typed.data
    assert "X-Searchapp-Typing" in typed.headers["Vary"]
    submitted = client.get("/search?q=khmei", headers=fragment)
    assert b"<mark>Khmeimim</mark>" not in submitted.data or b"Did you mean" in submitted.data
    assert client.get("/api/search?q=khmei").get_json()["total"] == 0
    assert client.get("/api/search?q=khmei&typing=true").get_json()["total"] > 0
    assert client.get("/api/search?q=khmei&typing=yes").status_code == 400


def test_a_hit_found_through_a_close_spelling_says_so(client):
    page = client.get("/search?q=tartsu")
    assert b'<p class="hit-why">Matched tartus for tartsu</p>' in page.data
    assert client.get("/api/search?q=tartsu").get_json()["hits"][0]["why"] == ["matched tartus for tartsu"]
