"""A 2-node cluster losing a node while searches run; an unreachable cluster on the web and the CLI.

The 2-node cluster is this module's own (separate state folder and ports); the test kills one of
its nodes with SIGKILL, so it cannot share the session's cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearch_cluster import Node, local_cluster

from searchapp.backends.opensearch import OpenSearchBackend, OpenSearchSettings
from searchapp.search import make_request

QUERIES = ("putin", "election", '"naval base"', "russia syria", "")
ROUNDS_AFTER_KILL = 6  # rounds of searches (every query) that must run after the kill
DEADLINE = 120.0  # seconds they may take on a loaded machine


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    with local_cluster(tmp_path_factory.mktemp("opensearch-2-nodes"), nodes=2) as nodes:
        assert len(nodes) == 2
        yield nodes


def totals(backend: OpenSearchBackend) -> dict[str, int]:
    return {q: backend.search(make_request(q, per_page=5)).total for q in QUERIES}


def test_searches_survive_a_node_killed_midway(two_nodes, backend_sources):
    settings = OpenSearchSettings(urls=tuple(n.url for n in two_nodes), index="failover", shards=2, timeout=10.0)
    backend = OpenSearchBackend(settings)
    backend.build(backend_sources)
    index = backend.stats()["generation"]
    replicas = backend.client.indices.get_settings(index=index)[index]["settings"]["index"]["number_of_replicas"]
    assert replicas == "1" and backend.client.cluster.health(
        wait_for_status="green", timeout="60s", request_timeout=70)["status"] == "green"
    expected = totals(backend)
    assert all(expected.values())
    seen: list[dict[str, int]] = []
    errors: list[BaseException] = []
    killed = threading.Event()
    stop = threading.Event()

    def search_meanwhile() -> None:
        while not stop.is_set():
            try:
                seen.append(totals(backend) | {"after kill": killed.is_set()})
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        time.sleep(1.0)
        os.kill(two_nodes[0].pid, signal.SIGKILL)
        killed.set()
        rounds_before = len(seen)
        deadline = time.monotonic() + DEADLINE
        while len(seen) - rounds_before <= ROUNDS_AFTER_KILL and not errors and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        searcher.join()
        backend.close()
    assert not errors, f"{len(errors)} searches failed, the first: {errors[0]!r}"
    after = [answer for answer in seen if answer.pop("after kill")]
    assert len(after) >= ROUNDS_AFTER_KILL, "searches ran after the kill"
    assert all(answer == expected for answer in seen), "the same totals before and after the kill"


def _dead_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_web_answers_503_saying_the_cluster_cannot_be_reached():
    from searchapp import create_app

    url = _dead_url()
    app = create_app({"rate_limit": 0})
    app.extensions["searchapp.search"] = OpenSearchBackend(OpenSearchSettings(urls=(url,), timeout=2.0))
    client = app.test_client()
    api = client.get("/api/search?q=putin")
    assert api.status_code == 503 and f"OpenSearch at {url} cannot be reached" in api.json["error"]
    page = client.get("/search?q=putin")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and "Search is unavailable" in html and f"{url} cannot be reached" in html
    assert "No index yet" not in html and "index build" not in html, "not the advice for a missing index"
    assert client.get("/articles/anything").status_code == 503


def test_a_build_against_an_unreachable_cluster_is_one_line(searchapp_command, tmp_path):
    url = _dead_url()
    env = {**os.environ, "SEARCHAPP_BACKEND": "opensearch", "SEARCHAPP_OPENSEARCH_URL": url,
           "SEARCHAPP_OPENSEARCH_TIMEOUT": "2"}
    source = tmp_path / "news.jsonl"
    source.write_text('{"id": "one", "title": "One", "text": "Harbour cranes rust."}\n', encoding="utf-8")
    started = time.monotonic()
    built = subprocess.run([*searchapp_command, "index", "build", str(source)], env=env, capture_output=True,
                           text=True, timeout=120)
    assert built.returncode != 0 and time.monotonic() - started < 60
    lines = built.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in built.stderr, built.stderr
    assert lines[0].startswith("searchapp: OpenSearch at") and f"{url} cannot be reached" in lines[0]
    assert not Path(tmp_path / "index").exists()
