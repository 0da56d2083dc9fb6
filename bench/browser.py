"""As-you-type timing in headless Chromium: last keystroke → updated results painted.

For each query, the search page is loaded fresh, the query is typed into the
search box (input name="q") one key every 60 ms, and the page itself records the
time of the last `input` event and, through a MutationObserver on `#results`
plus requestAnimationFrame and a task after it, the first frame showing the
results for the whole query (its summary names the query). The page's own
debounce (htmx `delay:…`) is part of what is measured and is reported beside it.

    .venv/bin/python -m bench.browser --corpus reuters --queries 20
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Sequence

from .common import (
    DATASETS,
    HOST,
    Query,
    free_port,
    load_queries,
    percentile,
    prepare,
    searchapp_server,
    stop_server,
    table,
    write_section,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
KEY_DELAY_MS = 60
INSTRUMENT = """(target) => {
  window.__lastKey = null; window.__done = null;
  const box = document.querySelector('input[name="q"]');
  box.addEventListener('input', () => { window.__lastKey = performance.now(); window.__done = null; });
  const norm = (s) => s.replace(/\\s+/g, ' ');
  const results = document.querySelector('#results');
  new MutationObserver(() => {
    const summary = document.querySelector('#summary');
    if (window.__lastKey === null || window.__done !== null || !summary) return;
    if (box.value !== target || !norm(summary.textContent).includes(norm(target))) return;
    requestAnimationFrame(() => setTimeout(() => { if (window.__done === null) window.__done = performance.now(); }));
  }).observe(results, {childList: true, subtree: true, characterData: true});
}"""


def typed_queries(corpus: str, count: int) -> list[Query]:
    """Queries a person types (no facet filters), in the mix's order."""
    return [q for q in load_queries(corpus) if not q.filters][:count]


def debounce_ms(html: str) -> int | None:
    found = re.search(r"delay:(\d+)ms", html)
    return int(found.group(1)) if found else None


def wait_done(page, timeout: float = 15.0) -> float:
    """Milliseconds from the last keystroke to the painted results, as the page recorded them.

    Polled from here: the page's CSP forbids the eval that `wait_for_function` needs.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        elapsed = page.evaluate("window.__done === null ? null : window.__done - window.__lastKey")
        if elapsed is not None:
            return elapsed
        time.sleep(0.02)
    raise TimeoutError("the results for the typed query never appeared")


def measure(port: int, queries: Sequence[Query]) -> tuple[list[tuple[str, float]], int | None]:
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"http://{HOST}:{port}/search")
        debounce = debounce_ms(page.content())
        for query in queries:
            page.goto(f"http://{HOST}:{port}/search")
            page.evaluate(INSTRUMENT, query.q)
            page.click('input[name="q"]')
            page.keyboard.type(query.q, delay=KEY_DELAY_MS)
            timings.append((query.q, wait_done(page)))
        browser.close()
    return timings, debounce


def run(corpus: str, count: int) -> list[str]:
    dataset = DATASETS[corpus]
    prepare(dataset, ["searchapp"])
    server = searchapp_server(dataset.searchapp_index, free_port())
    try:
        timings, debounce = measure(server.port, typed_queries(corpus, count))
    finally:
        stop_server(server)
    values = [t for _, t in timings]
    lines = [f"## As-you-type in Chromium ({corpus}, {len(values)} queries, a key every {KEY_DELAY_MS} ms)", "",
             *table(["median ms", "p90 ms", "min ms", "max ms", "page debounce ms"],
                    [[f"{statistics.median(values):.0f}", f"{percentile(values, 90):.0f}", f"{min(values):.0f}",
                      f"{max(values):.0f}", debounce if debounce is not None else "none found"]]), "",
             "Per query (ms): " + ", ".join(f"`{q}` {t:.0f}" for q, t in timings), ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(DATASETS), default="reuters")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args(argv)
    lines = run(args.corpus, args.queries)
    print("\n".join(lines))
    print(f"saved {write_section('browser', lines)}")


if __name__ == "__main__":
    main()
