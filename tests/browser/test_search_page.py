"""The search page in a real browser: typing, facets, history, keyboard, no JavaScript."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def type_query(page, text: str) -> None:
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially(text, delay=40)


def test_typing_shows_highlighted_hits(page, base_url, artifacts):
    page.goto(base_url + "/")
    type_query(page, "Putin")
    expect(page.locator("#summary")).to_contain_text("for “Putin”")
    expect(page.locator(".hit-text mark").first).to_have_text("Putin")
    assert query_of(page.url) == {"q": ["Putin"]}
    page.screenshot(path=str(artifacts / "results.png"), full_page=True)


def test_the_last_word_matches_as_a_prefix(page, base_url):
    page.goto(base_url + "/")
    type_query(page, "Khmei")
    expect(page.locator(".hit-text mark").first).to_have_text("Khmeimim")


def test_a_slow_earlier_response_never_overwrites_a_newer_one(page, base_url):
    page.goto(base_url + "/")
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/search?" in request.url else None)
    page.locator("#q").press_sequentially("tartus", delay=5)
    expect(page.locator("#summary")).to_contain_text("for “tartus”")
    expect(page.locator(".hit-text mark").first).to_have_text("Tartus")
    assert len(seen) < len("tartus"), "typing is debounced"


def test_facet_click_narrows_hits_updates_counts_and_url(page, base_url):
    page.goto(base_url + "/search?q=election")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("for “election”")
    before = summary.inner_text()
    page.locator('.facet-value[data-facet="topic"][data-value="business"]').click()
    expect(page.locator(".chip")).to_have_text("Topic: business ×")
    assert query_of(page.url) == {"q": ["election"], "topic": ["business"]}
    assert summary.inner_text() != before
    expect(page.locator(".hit")).to_have_count(3)
    expect(page.locator('.facet-value[data-facet="topic"][data-value="business"]')).to_have_attribute("aria-checked", "true")
    expect(page.locator(".facet-value[data-facet=\"author\"] .count")).to_have_text("3")


def test_back_button_restores_the_previous_results(page, base_url):
    page.goto(base_url + "/")
    entries = page.evaluate("history.length")
    type_query(page, "tartus")
    expect(page.locator("#summary")).to_contain_text("for “tartus”")
    page.wait_for_timeout(1200)  # a pause: what is typed next is a new search, with its own history entry
    page.locator("#q").select_text()
    page.locator("#q").press_sequentially("damascus", delay=40)
    expect(page.locator("#summary")).to_contain_text("for “damascus”")
    assert page.evaluate("history.length") == entries + 2, "one entry per search, not per keystroke"
    page.go_back()
    expect(page.locator("#summary")).to_contain_text("for “tartus”")
    expect(page.locator("#q")).to_have_value("tartus")
    assert query_of(page.url) == {"q": ["tartus"]}
    page.go_forward()
    expect(page.locator("#summary")).to_contain_text("for “damascus”")


def test_a_shared_url_opened_fresh_renders_the_same_page(page, base_url):
    page.goto(base_url + "/search?q=putin&kind=quote&kind=related&sort=newest")
    expect(page.locator(".chip")).to_have_count(2)
    expect(page.locator("#q")).to_have_value("putin")
    expect(page.locator(".toolbar strong")).to_have_text("Newest first")


def test_keyboard_path(page, base_url):
    page.goto(base_url + f"/articles/{ARTICLE}")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("tartus", delay=30)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=tartus")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".hit-text mark").first).to_have_text("Tartus")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    first = page.locator(".hit-title a").first
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/articles/{ARTICLE}?q=tartus#{ARTICLE}-p10")
    target = page.locator(f"#{ARTICLE}-p10")
    expect(target.locator("mark")).to_have_text("Tartus")
    assert target.evaluate("el => el.matches(':target')")
    assert target.is_visible()


def test_result_count_is_announced(page, base_url):
    page.goto(base_url + "/")
    type_query(page, "damascus")
    expect(page.locator("#announcer")).to_contain_text("for “damascus”")
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")


def test_more_paragraphs_of_an_article_expand(page, base_url):
    page.goto(base_url + "/search?q=election&group=article")
    economy = page.locator('.hit[data-id^="web-economy-"]')
    more = economy.locator(".more a")
    expect(more).to_contain_text("2 more matching paragraphs")
    more.click()
    expect(economy.locator(".more-hits .hit")).to_have_count(2)
    expect(economy.locator(".more a")).to_have_count(0)
    assert query_of(page.url)["group"] == ["article"], "expanding does not navigate"


def test_without_javascript_the_form_still_searches(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    page.locator("#q").fill("tartus")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/search?q=tartus")
    expect(page.locator(".hit-text mark").first).to_have_text("Tartus")
    page.locator('.facet-value[data-facet="kind"][data-value="body"]').click()
    page.wait_for_url("**/search?q=tartus&kind=body")
    expect(page.locator(".chip")).to_have_count(1)
    context.close()


def test_phone_layout_and_dark_mode(browser, base_url, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    page.goto(base_url + "/search?q=putin")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 21, 24)"
    page.screenshot(path=str(artifacts / "results-phone-dark.png"))
    context.close()
