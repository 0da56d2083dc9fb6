"""Embedding through Flask's test client: the widget script, the /embed page, its headers, the demo."""

from __future__ import annotations

import html
import re

import pytest
from webapp import make_app

ALLOWED = "http://news.example"
OTHER = "http://evil.example"
ARTICLE = "syria-russia-strategic-ties-2025-02-12"


@pytest.fixture()
def client(web_index):
    return make_app(web_index, embed_origins=(ALLOWED,)).test_client()


@pytest.fixture()
def closed_client(web_index):
    """No embed origins: the default."""
    return make_app(web_index).test_client()


# --- /widget.js ----------------------------------------------------------------------------


def test_widget_script_is_javascript_cached_and_self_contained(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    script = response.text
    assert 'customElements.define(NAME, SearchappSearch)' in script
    assert not re.search(r"https?://(?!SEARCH-HOST)", script), "loads nothing from anywhere but its own host"
    assert "innerHTML" not in script and "eval(" not in script
    assert client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", ["/widget.js", "/api/search?q=putin"])
def test_cors_answers_only_the_allowed_origin(client, path):
    allowed = client.get(path, headers={"Origin": ALLOWED})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = client.get(path, headers={"Origin": OTHER})
    assert other.status_code == 200, "the browser, not the server, withholds the answer"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_origin_is_allowed_by_default(closed_client):
    response = closed_client.get("/api/search?q=putin", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- /embed ---------------------------------------------------------------------------------


def test_embed_may_be_framed_by_the_allowed_origins_only(client, closed_client):
    response = client.get("/embed?q=putin")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].endswith(f"frame-ancestors 'self' {ALLOWED}")
    assert "X-Frame-Options" not in response.headers
    default = closed_client.get("/embed")
    assert default.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert "X-Frame-Options" not in default.headers


@pytest.mark.parametrize("path", ["/search?q=putin", "/embed/demo", "/api/search?q=putin"])
def test_other_pages_stay_unframeable(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_embed_page_is_compact_and_links_open_on_top(client):
    page = client.get("/embed?q=tartus").text
    assert 'class="top"' not in page, "not the full page's header"
    assert "<mark>Tartus</mark>" in page
    links = re.findall(r'<a href="([^"]+)" target="_top" rel="noopener">', page)
    assert f"/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10" in links
    assert "<script>" not in page.replace("<script src=", ""), "no inline scripts (CSP)"
    assert "embed.js" in page


def test_embed_shows_five_hits_and_a_link_to_all(client):
    page = client.get("/embed?q=putin").text
    assert page.count('<li class="hit') == 5
    assert re.search(r'<a href="/search\?q=putin" target="_top" rel="noopener">See all 20 results</a>', page)
    assert client.get("/embed?q=putin&per_page=2").text.count('<li class="hit') == 2


def test_embed_keeps_facet_filters_in_the_form(client):
    page = client.get("/embed?q=putin&kind=quote").text
    assert page.count('<li class="hit') == 2
    assert '<input type="hidden" name="kind" value="quote">' in page
    assert re.search(rf'href="/articles/{ARTICLE}\?q=putin&amp;kind=quote#', page), "the article's back link keeps them"


def test_embed_without_a_query_just_asks(client):
    response = client.get("/embed")
    assert response.status_code == 200
    assert "Type to search" in response.text and 'class="hit' not in response.text


@pytest.mark.parametrize("url, message", [
    ("/embed?q=putin&colour=red", "Unknown parameter 'colour'"),
    ("/embed?q=putin&page=two", "page must be a whole number"),
    ("/embed?q=putin&per_page=0", "per_page must be between"),
    ("/embed?q=putin&sort=sideways", "sort must be one of"),
    ("/embed?q=" + "x" * 5_000, "the limit is 500"),
    ("/embed?q=putin&referrer=http://host.example/secret", "Unknown parameter 'referrer'"),
])
def test_bad_parameters_on_embed_are_a_400_with_the_message(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert 'id="q"' in response.text, "the frame stays usable"


def test_embed_without_an_index_says_so(tmp_path):
    response = make_app(tmp_path / "nothing").test_client().get("/embed?q=putin")
    assert response.status_code == 503
    assert "searchapp index build" in response.text


def test_embed_sets_no_cookies(client):
    for path in ["/embed?q=putin", "/widget.js", "/api/search?q=putin", "/embed/demo"]:
        assert "Set-Cookie" not in client.get(path, headers={"Origin": ALLOWED, "Cookie": "host=1"}).headers


# --- /embed/demo -----------------------------------------------------------------------------


def test_demo_page_shows_both_variants_with_their_snippets(client):
    response = client.get("/embed/demo")
    assert response.status_code == 200
    page = response.text
    assert "<searchapp-search" in page and 'src="/widget.js"' in page, "the widget, live"
    assert re.search(r'<iframe class="embed-frame" data-searchapp src="/embed"', page), "the iframe, live"
    snippets = [html.unescape(code) for code in re.findall(r"<pre[^>]*><code[^>]*>(.*?)</code></pre>", page, re.S)]
    assert len(snippets) == 2
    widget, frame = snippets
    assert widget.startswith('<script src="http://localhost/widget.js" defer></script>\n<searchapp-search ')
    assert frame.startswith('<iframe src="http://localhost/embed" ')
    assert 'e.origin !== "http://localhost"' in frame and "searchapp:resize" in frame
    assert ALLOWED in page, "it says which origins may embed"


def test_demo_page_says_when_no_site_may_embed(closed_client):
    assert "SEARCHAPP_EMBED_ORIGINS" in closed_client.get("/embed/demo").text
