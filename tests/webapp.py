"""Helpers shared by the web and browser tests: a small corpus, its index, a live server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from searchapp import create_app
from searchapp.articles import sample_sources
from searchapp.backends.embedded.build import build_index

EVIL_TEXT = 'Officials said <script>alert("x")</script> and <img src=x onerror=alert(1)> appeared in the election report.'

WEB_ARTICLES = [
    {
        "id": "web-evil",
        "title": "Election <b>report</b> with markup",
        "text": EVIL_TEXT + "\n\nThe election commission published the results on Monday.",
        "date": "2024-03-05",
        "author": "Test Desk",
        "source": "example.org",
        "topic": "politics",
    },
    {
        "id": "web-economy",
        "title": "Economy grows as elections near",
        "text": "The economy grew faster than expected before the elections.\n\n"
                "\"We are confident about the election,\" the minister said.\n\n"
                "Analysts expect the central bank to hold rates.",
        "date": "2023-11-20",
        "author": "Test Desk",
        "source": "example.org",
        "topic": "business;politics",
    },
]


def write_web_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "web.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in WEB_ARTICLES) + "\n", encoding="utf-8")
    return path


def build_web_index(root: Path) -> Path:
    """An index of the bundled sample article plus `WEB_ARTICLES`."""
    index = root / "index"
    build_index(index, [*sample_sources(), write_web_corpus(root / "sources")])
    return index


@contextmanager
def live_server(app) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def make_app(index: Path, **settings):
    return create_app({"index": str(index), **settings})
