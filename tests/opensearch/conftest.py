"""A real one-node OpenSearch cluster for the session, started by scripts/opensearch-local.sh.

- `opensearch_url`: the node's URL. Skipped when java, javac, mvn or curl is missing, except
  under CI=true, where that fails; a cluster that does not start fails the tests either way.
- `opensearch_sources`: the sample, `tests/fixtures` and a few hand-made articles (JSON Lines).
- `os_backend`: an `OpenSearchBackend` on an alias built once from them; do not modify it.
- `os_settings`: settings for a fresh alias of this test's own, to build, update or break.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp import write_web_corpus

from searchapp.articles import sample_sources
from searchapp.backends.opensearch import OpenSearchBackend, OpenSearchSettings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "opensearch-local.sh"
FIXTURES = ROOT / "tests" / "fixtures"
TOOLS = ("java", "javac", "mvn", "curl", "setsid")
START_SECONDS = 600  # the first start downloads the jars

EXTRA_ARTICLES = [
    {"id": "globe-hamlet", "title": "A night at the Globe",
     "text": "The actor paused and began: to be or not to be, that is the question.\n\n"
             "The audience rose to applaud the performance of the season.",
     "date": "2024-05-01", "author": "Arts Desk", "source": "arts.example.org", "topic": "culture;theatre"},
    {"id": "council-election", "title": "Council election results announced",
     "text": "The elections were held on Sunday across the district.\n\n"
             "Turnout in the election rose to sixty percent, the council said.\n\n"
             "A quorum was reached early in the morning. " + "The count went on through the night and "
             "volunteers carried the ballot boxes from the schools to the town hall, where the clerks "
             "sorted them by ward and by street while observers from every party watched. " * 3
             + "By dawn the second quorum had confirmed the result.",
     "date": "2023-01-15", "author": "Civic Desk", "source": "civic.example.org", "topic": "politics"},
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        reason = f"OpenSearch tests need {', '.join(missing)} (scripts/opensearch-local.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("opensearch")
    env = {**os.environ, "OPENSEARCH_LOCAL_DIR": str(state)}
    http = _free_port()
    transport = _free_port()
    while transport == http:
        transport = _free_port()
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", "--http-port", str(http), "--transport-port", str(transport)],
        env=env, capture_output=True, text=True, timeout=START_SECONDS,
    )
    try:
        if started.returncode != 0:
            pytest.fail(f"scripts/opensearch-local.sh start failed:\n{started.stdout}\n{started.stderr}")
        yield started.stdout.split()[1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def opensearch_sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("opensearch-sources")
    extra = folder / "extra.jsonl"
    extra.write_text("\n".join(json.dumps(a) for a in EXTRA_ARTICLES) + "\n", encoding="utf-8")
    return [*sample_sources(), FIXTURES, extra, write_web_corpus(folder / "web")]


def settings_for(url: str, alias: str) -> OpenSearchSettings:
    return OpenSearchSettings(urls=(url,), index=alias, timeout=30.0)


@pytest.fixture(scope="session")
def os_backend(opensearch_url: str, opensearch_sources: list[Path]) -> Iterator[OpenSearchBackend]:
    backend = OpenSearchBackend(settings_for(opensearch_url, "searchapp-shared"))
    backend.build(opensearch_sources)
    yield backend
    backend.close()


@pytest.fixture
def os_settings(opensearch_url: str) -> OpenSearchSettings:
    """Settings for an alias no other test uses."""
    return settings_for(opensearch_url, f"t-{uuid.uuid4().hex[:10]}")
