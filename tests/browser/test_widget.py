"""Search on other sites, in a real browser: the widget and the iframe on a host page of another origin.

Two servers on 127.0.0.1: searchapp, which allows the host's origin, and a tiny host site on
another port whose pages paste the snippets from `/embed/demo` (and hostile CSS, and its own htmx).
A third site, not allowed, shows what the browser refuses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from webapp import build_web_index, live_server, make_app

from searchapp.web.embed import snippets

ARTICLE = "syria-russia-strategic-ties-2025-02-12"
HTMX = Path(__file__).resolve().parents[2] / "static" / "htmx-2.0.11.min.js"
HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; font-family: serif !important; line-height: 3 !important;
    background: yellow !important; border: 5px dashed green !important; }
mark { background: black !important; } input { display: none !important; } a { color: red !important; }
"""
THEME_CSS = "searchapp-search { --searchapp-accent: rgb(128, 0, 128); --searchapp-radius: 0px; }"


class HostSite:
    """A WSGI app serving the embedding site's pages; `/htmx.js` is the host's own copy of htmx."""

    def __init__(self):
        self.search_host = ""

    def page(self, path: str) -> str | None:
        snippet = snippets(self.search_host)
        widget = snippet["widget"]
        pages = {
            "/plain": ("", widget),
            "/hostile": (f"<style>{HOSTILE_CSS}{THEME_CSS}</style>", widget),
            "/htmx": ('<script src="/htmx.js"></script>',
                      '<div hx-boost="true"><a href="/plain">a boosted link</a></div>' + widget),
            "/filtered": ("", widget.replace('facets="section,author"', 'facets="kind" filter="kind:quote" results="3"')),
            "/iframe": ("", snippet["iframe"]),
        }
        if path not in pages:
            return None
        head, body = pages[path]
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host {path}</title>'
                f'<link rel="icon" href="data:,">{head}</head><body><h1>A news site</h1>{body}'
                "<p>Footer of the host page.</p></body></html>")

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/htmx.js":
            body, kind = HTMX.read_bytes(), "text/javascript"
        elif (html := self.page(path)) is not None:
            body, kind = html.encode(), "text/html; charset=utf-8"
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """(searchapp URL, allowed host URL, not-allowed host URL)."""
    index = build_web_index(tmp_path_factory.mktemp("widget"))
    allowed_site, other_site = HostSite(), HostSite()
    with live_server(allowed_site) as host, live_server(other_site) as other:
        with live_server(make_app(index, embed_origins=(host,))) as searchapp:
            allowed_site.search_host = other_site.search_host = searchapp
            yield searchapp, host, other


@pytest.fixture()
def searchapp(sites):
    return sites[0]


@pytest.fixture()
def host(sites):
    return sites[1]


def type_into(locator, text: str) -> None:
    locator.fill("")
    locator.press_sequentially(text, delay=40)


def style(locator, prop: str) -> str:
    return locator.evaluate("(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop)


def test_the_widget_shows_highlighted_hits_on_another_origin(page, searchapp, host, artifacts):
    page.goto(host + "/plain")
    widget = page.locator("searchapp-search")
    expect(widget.locator("input")).to_have_attribute("placeholder", "Search the archive")
    type_into(widget.locator("input"), "Putin")
    expect(widget.locator("[role=status]")).to_have_text("20 results for “Putin”")
    expect(widget.locator("li")).to_have_count(5)
    expect(widget.locator("li mark").first).to_have_text("Putin")
    expect(widget.locator("li a.t mark").first).to_have_text("Putin")  # in the title too
    expect(widget.locator("a.all")).to_have_attribute("href", searchapp + "/search?q=Putin")
    page.screenshot(path=str(artifacts / "widget.png"), full_page=True)


def test_typing_is_debounced_and_sends_nothing_of_the_host_page(page, searchapp, host):
    requests = []
    page.on("request", lambda request: requests.append(request) if "/api/search" in request.url else None)
    page.context.add_cookies([{"name": "host-session", "value": "secret", "url": host}])
    page.goto(host + "/plain?reader=42")
    type_into(page.locator("searchapp-search input"), "tartus")
    expect(page.locator("searchapp-search li mark").first).to_have_text("Tartus")
    assert 1 <= len(requests) < len("tartus")
    headers = requests[-1].all_headers()
    assert "referer" not in headers and "cookie" not in headers
    assert requests[-1].url.startswith(searchapp + "/api/search?q=tartus")


SLOW_FIRST_ANSWER = """
const realFetch = window.fetch;
window.fetch = (url, init) => {
  if (!String(url).includes("q=tar&")) return realFetch(url, init);
  return realFetch(url, { ...init, signal: undefined }).then((response) =>  // too late to abort
    new Promise((resolve) => setTimeout(() => { resolve(response); window.slowAnswered = true; }, 800)));
};
"""


def test_a_slow_earlier_answer_never_overwrites_a_newer_one(page, host):
    page.add_init_script(SLOW_FIRST_ANSWER)
    page.goto(host + "/plain")
    box = page.locator("searchapp-search input")
    with page.expect_request(lambda request: "q=tar&" in request.url):
        type_into(box, "tar")
    box.press_sequentially("tus", delay=40)
    status = page.locator("searchapp-search [role=status]")
    expect(status).to_have_text("1 result for “tartus”")
    page.wait_for_function("window.slowAnswered === true")
    page.evaluate("() => new Promise(requestAnimationFrame)")
    expect(status).to_have_text("1 result for “tartus”")
    expect(page.locator("searchapp-search li")).to_have_count(1)


def test_markup_in_articles_stays_text(page, host):
    page.goto(host + "/plain")
    type_into(page.locator("searchapp-search input"), "appeared")
    text = page.locator("searchapp-search li p:not(.m)").first
    expect(text).to_contain_text('<script>alert("x")</script> and <img src=x onerror=alert(1)>')
    expect(text.locator("script, img")).to_have_count(0)


def test_a_facet_value_narrows_the_hits(page, host):
    page.goto(host + "/plain")
    widget = page.locator("searchapp-search")
    type_into(widget.locator("input"), "putin")
    expect(widget.locator("[role=status]")).to_have_text("20 results for “putin”")
    section = widget.locator("[role=group][aria-label=Section] button")
    expect(section).to_have_text(["Building a new Syria 9"])
    section.click()
    expect(widget.locator("[role=status]")).to_have_text("9 results for “putin”")
    expect(section).to_have_attribute("aria-pressed", "true")
    expect(widget.locator("a.all")).to_have_attribute("href", re.compile(r"/search\?q=putin&section=Building\+a\+new\+Syria$"))
    section.click()
    expect(widget.locator("[role=status]")).to_have_text("20 results for “putin”")


def test_attributes_fix_a_filter_and_the_number_of_hits(page, host):
    page.goto(host + "/filtered")
    widget = page.locator("searchapp-search")
    type_into(widget.locator("input"), "putin")
    expect(widget.locator("[role=status]")).to_have_text("2 results for “putin”")
    expect(widget.locator("li")).to_have_count(2)
    expect(widget.locator("[role=group][aria-label=Kind] button[aria-pressed=true]")).to_have_text("Quote 2")
    widget.evaluate("el => el.setAttribute('filter', '')")
    expect(widget.locator("[role=status]")).to_have_text("20 results for “putin”")
    expect(widget.locator("li")).to_have_count(3)


def test_a_hit_opens_the_article_on_the_search_host(page, searchapp, host):
    page.goto(host + "/plain")
    type_into(page.locator("searchapp-search input"), "tartus")
    link = page.locator("searchapp-search li a").first
    expect(link).to_have_attribute("href", f"{searchapp}/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10")
    link.click()
    page.wait_for_url(f"{searchapp}/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10")
    expect(page.locator(f"#{ARTICLE}-p10 mark")).to_have_text("Tartus")


def test_keyboard_and_screen_reader_path(page, searchapp, host):
    page.goto(host + "/plain")
    box = page.locator("searchapp-search input")
    box.focus()
    page.keyboard.type("tartus", delay=30)
    links = page.locator("searchapp-search li a")
    expect(links).to_have_count(1)
    status = page.locator("searchapp-search [role=status]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(box).to_have_attribute("aria-controls", "r")
    page.keyboard.press("ArrowDown")
    expect(links.first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(links).to_have_count(0)
    page.keyboard.type("tartus", delay=30)
    expect(links).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{searchapp}/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10")


def test_hostile_host_css_does_not_reach_the_widget_but_its_theme_does(page, host, artifacts):
    page.goto(host + "/hostile")
    assert style(page.locator("h1"), "color") == "rgb(255, 0, 0)", "the host's CSS is in force on its own page"
    widget = page.locator("searchapp-search")
    box = widget.locator("input")
    expect(box).to_be_visible()
    type_into(box, "putin")
    expect(widget.locator("li")).to_have_count(5)
    frame = widget.locator(".w")
    assert style(frame, "font-size") == "15px"
    assert style(frame, "color") == "rgb(27, 27, 31)"
    assert style(frame, "background-color") == "rgb(255, 255, 255)"
    assert style(frame, "border-radius") == "0px", "--searchapp-radius from the host"
    assert style(box, "font-size") == "15px"
    assert style(box, "font-family").startswith("system-ui")
    assert style(widget.locator("li a").first, "color") == "rgb(128, 0, 128)", "--searchapp-accent from the host"
    assert style(widget.locator("li mark").first, "background-color") == "rgb(255, 224, 102)"
    assert frame.bounding_box()["height"] < 900, "no 40px text or 3x line height inside"
    widget.screenshot(path=str(artifacts / "widget-hostile-host.png"))


def test_dark_mode_follows_the_reader(browser, host):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(host + "/plain")
    assert style(page.locator("searchapp-search .w"), "background-color") == "rgb(20, 21, 24)"
    context.close()


@pytest.mark.parametrize("path", ["/htmx", "/plain"])
def test_works_whether_or_not_the_host_has_htmx(page, host, path):
    page.goto(host + path)
    has_htmx = page.evaluate("typeof window.htmx !== 'undefined'")
    assert has_htmx == (path == "/htmx")
    type_into(page.locator("searchapp-search input"), "damascus")
    expect(page.locator("searchapp-search li mark").first).to_have_text(re.compile("Damascus", re.I))
    if has_htmx:
        page.locator("a", has_text="a boosted link").click()
        page.wait_for_url(host + "/plain")
        expect(page.locator("searchapp-search input")).to_be_visible()


def test_the_iframe_resizes_to_its_content(page, searchapp, host, artifacts):
    page.goto(host + "/iframe")
    iframe = page.locator("iframe")
    frame = page.frame_locator("iframe")
    expect(frame.locator("#q")).to_be_visible()
    page.wait_for_function("() => document.querySelector('iframe').style.height.endsWith('px')")
    empty = iframe.bounding_box()["height"]
    frame.locator("#q").press_sequentially("putin", delay=40)
    expect(frame.locator(".hit")).to_have_count(5)
    expect(frame.locator(".hit-text mark").first).to_have_text("Putin")
    page.wait_for_function(f"() => document.querySelector('iframe').getBoundingClientRect().height > {empty + 200}")
    content = frame.locator(".embed").evaluate("el => el.getBoundingClientRect().height")
    assert abs(iframe.bounding_box()["height"] - content) <= 1, "the frame is as tall as its content"
    expect(frame.locator(".hit-title a").first).to_have_attribute("target", "_top")
    page.screenshot(path=str(artifacts / "widget-iframe.png"), full_page=True)
    frame.locator("#q").fill("")
    page.wait_for_function(f"() => document.querySelector('iframe').getBoundingClientRect().height < {empty + 50}")
    frame.locator("#q").press_sequentially("tartus", delay=40)
    frame.locator(".hit-title a").first.click()
    page.wait_for_url(f"{searchapp}/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10")


def test_a_site_that_is_not_allowed_gets_nothing(browser, sites):
    _, _, other = sites
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(other + "/plain")
    widget = page.locator("searchapp-search")
    type_into(widget.locator("input"), "putin")
    expect(widget.locator("[role=status]")).to_have_text("Search is not available on this site.")
    expect(widget.locator("li")).to_have_count(0)
    assert any("blocked by CORS policy" in text for text in console), console
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(other + "/iframe")
    expect(page.frame_locator("iframe").locator("#q")).to_have_count(0)
    context.close()


def test_the_demo_page_shows_both_variants_live(page, searchapp):
    page.goto(searchapp + "/embed/demo")
    expect(page.locator("#widget-snippet")).to_contain_text(f'<script src="{searchapp}/widget.js" defer></script>')
    expect(page.locator("#iframe-snippet")).to_contain_text(f'<iframe src="{searchapp}/embed"')
    widget = page.locator("searchapp-search")
    type_into(widget.locator("input"), "tartus")
    expect(widget.locator("li mark").first).to_have_text("Tartus")
    assert style(widget.locator(".w"), "font-size") == "15px", "the widget's styles pass the page's CSP"
    widget.locator("input").press("/")
    expect(widget.locator("input")).to_be_focused(), "the page's own '/' shortcut does not steal the key"
    expect(widget.locator("input")).to_have_value("tartus/")
    frame = page.frame_locator("iframe")
    iframe = page.locator("iframe")
    page.wait_for_function("() => document.querySelector('iframe').style.height.endsWith('px')")
    before = iframe.bounding_box()["height"]
    frame.locator("#q").press_sequentially("putin", delay=30)
    expect(frame.locator(".hit")).to_have_count(5)
    page.wait_for_function(f"() => document.querySelector('iframe').getBoundingClientRect().height > {before + 200}")
