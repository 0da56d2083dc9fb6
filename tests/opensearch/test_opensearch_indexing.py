"""Building, updating and failing on a real OpenSearch node; connection settings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from json_articles import article, articles_file

from searchapp.backends.opensearch import ClusterRefused, ClusterUnavailable, OpenSearchBackend, OpenSearchSettings
from searchapp.errors import EngineUnavailable, IndexLocked, IndexMissing, SearchIndexError
from searchapp.search import make_request


def physical_indices(backend: OpenSearchBackend) -> list[str]:
    alias = backend.settings.index
    return sorted(backend.client.indices.get(index=f"{alias}-*", ignore_unavailable=True))


def hits(backend: OpenSearchBackend, q: str) -> list[str]:
    return [h.id for h in backend.search(make_request(q, per_page=100).with_changes(typing=False)).hits]


def test_a_build_switches_the_alias_and_deletes_the_old_index(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    first = backend.build([articles_file(tmp_path / "a", [article("one", "Harbour cranes rust.")])])
    assert (first.articles, first.paragraphs) == (1, 1)
    old = backend.stats()["generation"]
    assert hits(backend, "cranes") == ["one-p1"]
    backend.build([articles_file(tmp_path / "b", [article("two", "Granary roofs leak.", "Millers complain.")])])
    assert hits(backend, "cranes") == [] and hits(backend, "granary") == ["two-p1"]
    assert physical_indices(backend) == [backend.stats()["generation"]] != [old]
    stats = backend.stats()
    assert (stats["paragraphs"], stats["nodes"], stats["status"]) == (2, 1, "green") and stats["built_at"]


def test_a_build_of_nothing_keeps_the_live_index(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    backend.build([articles_file(tmp_path / "a", [article("one", "Harbour cranes rust.")])])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert backend.build([empty]).articles == 0
    assert hits(backend, "cranes") == ["one-p1"] and len(physical_indices(backend)) == 1


def test_the_next_build_deletes_indices_left_by_a_dead_build(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    leftover = f"{os_settings.index}-20200101t000000000000"
    backend.client.indices.create(index=leftover)
    unrelated = f"{os_settings.index}-notes"
    backend.client.indices.create(index=unrelated)
    backend.build([articles_file(tmp_path, [article("one", "Harbour cranes rust.")])])
    names = physical_indices(backend)
    assert leftover not in names and unrelated in names, "only names of our own pattern are deleted"
    backend.client.indices.delete(index=unrelated)


def test_one_build_at_a_time(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    sources = [articles_file(tmp_path, [article("one", "Harbour cranes rust.")])]
    sleeper = subprocess.Popen(["sleep", "30"])  # a live process on this host holds the lock
    try:
        backend.client.indices.create(index=f"{os_settings.index}.build-lock", body={"mappings": {"_meta": {
            "host": socket.gethostname(), "pid": sleeper.pid, "since": "now"}}})
        with pytest.raises(IndexLocked, match=f"pid {sleeper.pid}"):
            backend.build(sources, wait=0.5)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert backend.build(sources).articles == 1, "a lock whose holder died is taken over"
    assert not backend.client.indices.exists(index=f"{os_settings.index}.build-lock"), "released after the build"


def test_searching_an_alias_never_built_says_so(os_settings):
    backend = OpenSearchBackend(os_settings)
    with pytest.raises(IndexMissing, match=os_settings.index):
        backend.search(make_request("anything"))
    with pytest.raises(IndexMissing):
        backend.update([Path("/nonexistent")])


def test_an_unreachable_cluster_is_a_clear_error(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenSearchBackend(OpenSearchSettings(urls=(f"http://127.0.0.1:{port}",), timeout=2.0))
    started = time.monotonic()
    with pytest.raises(ClusterUnavailable, match=f"127.0.0.1:{port} cannot be reached") as raised:
        backend.search(make_request("putin"))
    assert isinstance(raised.value, EngineUnavailable) and isinstance(raised.value, SearchIndexError)
    assert time.monotonic() - started < 10


def test_the_web_answers_503_when_the_cluster_is_unreachable():
    from searchapp import create_app

    app = create_app({"rate_limit": 0})
    app.extensions["searchapp.search"] = OpenSearchBackend(
        OpenSearchSettings(urls=("http://127.0.0.1:9",), timeout=2.0))
    answer = app.test_client().get("/api/search?q=putin")
    assert answer.status_code == 503 and "cannot be reached" in answer.json["error"]


def test_settings_from_the_environment(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    settings = OpenSearchSettings.from_env({
        "SEARCHAPP_OPENSEARCH_URL": "https://a.example:9200/, https://b.example:9200",
        "SEARCHAPP_OPENSEARCH_USER": "reader", "SEARCHAPP_OPENSEARCH_PASSWORD": "secret",
        "SEARCHAPP_OPENSEARCH_CA_FILE": str(ca), "SEARCHAPP_OPENSEARCH_INDEX": "news",
    })
    assert settings == OpenSearchSettings(("https://a.example:9200", "https://b.example:9200"), "reader", "secret",
                                          str(ca), "news")
    assert OpenSearchSettings.from_env({}) == OpenSearchSettings()


@pytest.mark.parametrize("name, value, message", [
    ("URL", "127.0.0.1:9200", "not an http"),
    ("URL", "ftp://host", "not an http"),
    ("INDEX", "News", "lower-case"),
    ("INDEX", "a b", "lower-case"),
    ("CA_FILE", "/nonexistent/ca.pem", "no file"),
    ("SHARDS", "two", "take numbers"),
])
def test_bad_settings_are_named(name, value, message):
    with pytest.raises(ValueError, match=message):
        OpenSearchSettings.from_env({f"SEARCHAPP_OPENSEARCH_{name}": value})


def test_the_script_refuses_a_busy_port(opensearch_url, tmp_path):
    script = Path(__file__).resolve().parents[2] / "scripts" / "opensearch-local.sh"
    port = opensearch_url.rsplit(":", 1)[1]
    busy = subprocess.run(["bash", str(script), "start", "--http-port", port], capture_output=True, text=True,
                          env={**os.environ, "OPENSEARCH_LOCAL_DIR": str(tmp_path)}, timeout=60)
    assert busy.returncode == 1 and f"port {port} on 127.0.0.1 is in use" in busy.stderr


def test_the_cli_and_the_web_use_opensearch_when_the_settings_say_so(os_settings, searchapp_command, tmp_path):
    env = {**os.environ, "SEARCHAPP_BACKEND": "opensearch", "SEARCHAPP_OPENSEARCH_URL": os_settings.where,
           "SEARCHAPP_OPENSEARCH_INDEX": os_settings.index}
    sources = articles_file(tmp_path, [article("one", "Harbour cranes rust."), article("two", "Cranes fly south.")])

    def cli(*args):
        return subprocess.run([*searchapp_command, *args], env=env, capture_output=True, text=True, timeout=120)

    built = cli("index", "build", str(sources))
    assert built.returncode == 0, built.stderr
    found = cli("search", "cranes", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["total"] == 2
    stats = json.loads(cli("index", "stats", "--json").stdout)
    assert stats["generation"].startswith(f"{os_settings.index}-") and stats["articles"] == 2
    refused = cli("search", "cranes", "--index", str(tmp_path / "folder"))
    assert refused.returncode == 2 and "SEARCHAPP_OPENSEARCH_INDEX" in refused.stderr
    env["SEARCHAPP_OPENSEARCH_URL"] = "localhost:9200"
    bad = cli("search", "cranes")
    assert bad.returncode == 2 and "not an http(s)://host:port URL" in bad.stderr

    from searchapp import create_app

    with pytest.MonkeyPatch.context() as patch:
        for name in ("SEARCHAPP_BACKEND", "SEARCHAPP_OPENSEARCH_URL", "SEARCHAPP_OPENSEARCH_INDEX"):
            patch.setenv(name, {**env, "SEARCHAPP_OPENSEARCH_URL": os_settings.where}[name])
        client = create_app({"rate_limit": 0}).test_client()
        assert client.get("/api/search?q=cranes").json["total"] == 2


def test_a_bad_backend_setting_is_named():
    from searchapp.config import load_settings

    with pytest.raises(ValueError, match="SEARCHAPP_BACKEND must be one of embedded, opensearch"):
        load_settings({"SEARCHAPP_BACKEND": "elastic"})


def test_a_refused_document_stops_the_build_and_leaves_the_live_index(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    backend.build([articles_file(tmp_path / "a", [article("one", "Harbour cranes rust.")])])
    live = backend.stats()["generation"]
    huge = {**article("two", "Granary roofs leak."), "author": "x" * 40_000}  # over a keyword's 32 kB limit
    with pytest.raises(ClusterRefused, match="refused 1 documents"):
        backend.build([articles_file(tmp_path / "b", [huge])])
    assert backend.stats()["generation"] == live and physical_indices(backend) == [live]
    assert hits(backend, "cranes") == ["one-p1"]


def test_entity_name_counts_are_kept_per_physical_index_for_updates(os_settings, tmp_path):
    backend = OpenSearchBackend(os_settings)
    store = f"{os_settings.index}.entity-names"
    backend.build([articles_file(tmp_path / "a", [article("one", "Ronald Reagan spoke in London.")])])
    first = backend.stats()["generation"]
    assert backend.client.exists(index=store, id=first)
    backend.build([articles_file(tmp_path / "b", [article("two", "Margaret Thatcher spoke in Paris.")])])
    second = backend.stats()["generation"]
    assert backend.client.exists(index=store, id=second) and not backend.client.exists(index=store, id=first)
    assert physical_indices(backend) == [second], "the counts' index is no physical index of the alias"
