"""Snapshots: one version of the index per request, old versions released, the format checked,
and what degrades says so in the log."""

from __future__ import annotations

import gc
import json
import logging
import shutil
import threading
import time
import weakref
from pathlib import Path

import pytest

from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.build import build_index
from searchapp.backends.embedded.generations import META_FILE, current_generation
from searchapp.backends.embedded.update import update_index
from searchapp.errors import IndexFormatError
from searchapp.search import make_request

ARTICLES, PARAGRAPHS = 40, 2  # per corpus: both corpora have the same number of paragraphs


@pytest.fixture(autouse=True)
def look_for_new_versions_on_every_search(monkeypatch):
    monkeypatch.setattr("searchapp.backends.embedded.snapshot.REFRESH_SECONDS", 0)


def _corpus(folder: Path, word: str, write_article) -> Path:
    """ARTICLES articles of PARAGRAPHS paragraphs, every paragraph holding `word` (and nothing of the other corpus)."""
    for n in range(ARTICLES):
        write_article(folder, f"{word}-{n}", f"{word.title()} report {n}",
                      [f"The {word} council met on day {n} and part {p}." for p in range(PARAGRAPHS)])
    return folder


def test_same_size_rebuilds_never_mix_two_indexes_in_one_answer(tmp_path, write_article):
    """Defect: the per-version state was keyed by the newest generation and the calling thread's
    reader, so during same-size rebuilds a thread on its old reader got the new index's postings."""
    alpha = _corpus(tmp_path / "alpha", "alpha", write_article)
    beta = _corpus(tmp_path / "beta", "beta", write_article)
    path = tmp_path / "index"
    build_index(path, [alpha], procs=1)
    backend = EmbeddedBackend(path, cache_size=0)
    stop, wrong, answers, errors = threading.Event(), [], [0], []

    def client(word: str) -> None:
        try:
            while not stop.is_set():
                page = backend.search(make_request(word, per_page=20).with_changes(typing=False))
                answers[0] += 1
                if page.total not in (0, ARTICLES * PARAGRAPHS):
                    wrong.append((word, "total", page.total))
                wrong.extend((word, hit.id, hit.text) for hit in page.hits if word not in hit.text)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(repr(error))

    threads = [threading.Thread(target=client, args=(word,)) for word in ("alpha", "beta") * 4]
    for thread in threads:
        thread.start()
    try:
        for source in [beta, alpha] * 3:
            build_index(path, [source], procs=1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert answers[0] > 50
    assert wrong == [], f"{len(wrong)} answers held documents of the other index"


def test_an_old_version_is_released_after_its_last_request(tmp_path, write_article):
    """Defect: memory grew with every update under traffic (state and word caches of old versions kept)."""
    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    build_index(path, [source], procs=1)
    backend = EmbeddedBackend(path, cache_size=0)
    with backend.snapshots.acquire() as first:
        assert backend.search(make_request("alpha")).total == ARTICLES * PARAGRAPHS
        old = weakref.ref(first)
        write_article(source, "alpha-new", "New", ["The alpha council again."])
        update_index(path, [source])
        assert backend.search(make_request("alpha")).total == ARTICLES * PARAGRAPHS + 1
        assert not first.closed, "a request still holds the old version: it stays open"
    assert first.closed
    del first
    for number in range(5):
        write_article(source, f"alpha-more-{number}", "More", ["The alpha council once more."])
        update_index(path, [source])
        backend.search(make_request("alpha council"))
    gc.collect()
    assert old() is None, "the old version's snapshot (and its caches) were freed"


def test_update_reports_a_repeated_article_id_as_a_build_does(tmp_path, write_article):
    """Defect: `index update` silently dropped a repeated article id that `index build` reports."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_article(first, "same", "First Title", ["One."])
    path = tmp_path / "index"
    build_index(path, [first])
    write_article(second, "same", "Second Title", ["Two."])
    summary = update_index(path, [first, second])
    assert any("article id 'same' appears twice" in skipped for skipped in summary.skipped)
    assert summary.unchanged == 1


def _set_format(path: Path, value: object) -> None:
    meta_file = current_generation(path) / META_FILE
    meta = json.loads(meta_file.read_text())
    meta["format"] = value
    meta_file.write_text(json.dumps(meta))


def test_an_index_of_another_format_is_refused_with_a_rebuild_message(sample_index, tmp_path):
    path = tmp_path / "index"
    shutil.copytree(sample_index, path, symlinks=True)
    _set_format(path, 1)
    with pytest.raises(IndexFormatError, match="format 1.*rebuild it with `searchapp index build`"):
        EmbeddedBackend(path).search(make_request("putin"))
    (current_generation(path) / META_FILE).write_text("{not json")
    with pytest.raises(IndexFormatError, match="unreadable"):
        EmbeddedBackend(path).search(make_request("putin"))


def test_the_cli_and_the_web_refuse_another_format_clearly(sample_index, tmp_path, searchapp_command):
    import subprocess

    from searchapp import create_app

    path = tmp_path / "index"
    shutil.copytree(sample_index, path, symlinks=True)
    _set_format(path, 99)
    result = subprocess.run([*searchapp_command, "search", "putin", "--index", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "rebuild it with `searchapp index build`" in result.stderr
    client = create_app({"index": str(path)}).test_client()
    page = client.get("/search?q=putin")
    assert page.status_code == 503 and b"searchapp index build" in page.data
    api = client.get("/api/search?q=putin")
    assert api.status_code == 503 and "format 99" in api.get_json()["error"]


def test_silent_degradations_are_logged(sample_index, tmp_path, caplog):
    path = tmp_path / "index"
    shutil.copytree(sample_index, path, symlinks=True)
    generation = current_generation(path)
    (generation / "words.tsv").unlink()
    broken = next(generation.glob("arrays-*"))
    (broken / "text.docs.npy").write_bytes(b"not an array")
    with caplog.at_level(logging.INFO, logger="searchapp"):
        page = EmbeddedBackend(path, cache_size=0).search(make_request("putin"))
    assert page.total > 0, "the search still answers, from Whoosh's postings"
    assert "term arrays of segment" in caplog.text and "cannot be read" in caplog.text
    assert "has no word list" in caplog.text
    assert "opened gen-" in caplog.text


def test_builds_updates_switches_and_slow_searches_are_logged(tmp_path, write_article, caplog, monkeypatch):
    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    with caplog.at_level(logging.INFO, logger="searchapp"):
        build_index(path, [source], procs=1)
        backend = EmbeddedBackend(path, cache_size=0)
        backend.search(make_request("alpha"))
        write_article(source, "alpha-new", "New", ["The alpha council again."])
        update_index(path, [source])
        monkeypatch.setattr("searchapp.backends.embedded.SLOW_SEARCH_SECONDS", 0)
        backend.search(make_request("council"))
    assert "built gen-" in caplog.text and "40 articles, 80 paragraphs" in caplog.text
    assert "updated gen-" in caplog.text and "added 1" in caplog.text
    assert "switched %s to" not in caplog.text and "switched from gen-" in caplog.text
    assert "slow search" in caplog.text and "'council'" in caplog.text


def test_a_version_removed_before_a_thread_reads_it_is_retried_on_the_live_one(tmp_path, write_article):
    """Two rebuilds during one request delete the request's generation: a thread that had not read
    it yet cannot open its files (`SnapshotGone`), and the search is answered from the live version."""
    from searchapp.backends.embedded.snapshot import SnapshotGone

    alpha = _corpus(tmp_path / "alpha", "alpha", write_article)
    beta = _corpus(tmp_path / "beta", "beta", write_article)
    path = tmp_path / "index"
    build_index(path, [alpha], procs=1)
    backend = EmbeddedBackend(path, cache_size=0)
    with backend.snapshots.acquire() as old:
        build_index(path, [beta], procs=1)
        build_index(path, [alpha], procs=1)
        assert not old.generation.exists()
        failures = []
        thread = threading.Thread(target=lambda: failures.append(_open_searcher(old, SnapshotGone)))
        thread.start()
        thread.join()
        assert failures == [True]
        tried = []

        def work(snap):
            tried.append(snap.generation.name)
            if len(tried) == 1:
                raise SnapshotGone(snap.generation.name)
            return snap.generation.name

        assert backend._on_snapshot(work) == current_generation(path).name and len(tried) == 2
    assert backend.search(make_request("alpha")).total == ARTICLES * PARAGRAPHS


def _open_searcher(snapshot, gone) -> bool:
    try:
        snapshot.searcher()
    except gone:
        return True
    return False


def _mapped_arrays() -> int:
    return sum("/arrays-" in line for line in Path("/proc/self/maps").read_text().splitlines())


def _open_files() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def test_updates_under_searches_do_not_pile_up_open_files_or_mapped_arrays(tmp_path, write_article):
    """Defect: memory grew with every update under traffic. A retired version must let go of its
    files and memory maps when its last request ends, not when (if ever) the cycle collector runs."""
    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    build_index(path, [source], procs=1)
    backend = EmbeddedBackend(path, cache_size=0)
    gc.collect()
    gc.disable()  # a busy server's collector may not run between updates
    try:
        counts = []
        for number in range(8):
            write_article(source, f"alpha-extra-{number}", "Extra", [f"The alpha council on extra day {number}."])
            update_index(path, [source])
            assert backend.search(make_request(f"alpha council day {number}")).total > 0
            counts.append((_open_files(), _mapped_arrays()))
    finally:
        gc.enable()
    # Updates' segments are merged (at most three per size level), so the files and maps of the live
    # version stop growing; versions kept alive, or segments never merged, make them grow every update.
    for kind in (0, 1):
        assert counts[-1][kind] <= max(count[kind] for count in counts[:4]) + 2, (kind, counts)


def test_versions_analysed_alike_share_the_word_caches(tmp_path, write_article):
    """Each version unpickles its own analyzer; with caches of their own, every update made each
    server stem and analyse again the words it had seen."""
    from searchapp.backends.embedded.analysis import NewsAnalyzer
    from searchapp.backends.embedded.snapshot import Snapshots

    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    build_index(path, [source], procs=1)
    snapshots = Snapshots(path)
    with snapshots.acquire() as before:
        write_article(source, "alpha-extra", "Extra", ["The alpha council on an extra day."])
        update_index(path, [source])
        with snapshots.acquire() as after:
            assert after.version != before.version
            assert after.schema["text"].analyzer is not before.schema["text"].analyzer
            assert after.word_terms is before.word_terms
            assert after.schema["text"].analyzer._stems is before.schema["text"].analyzer._stems
    assert NewsAnalyzer(stoplist={"the"})._stems is not NewsAnalyzer()._stems  # analysed differently
    snapshots.close()


def test_cached_pages_and_terms_of_the_old_version_go_before_the_new_version_opens(tmp_path, write_article,
                                                                                   monkeypatch):
    """Freed first, the old caches' memory holds the new version; freed after, the heap grew by both."""
    from searchapp.backends.embedded.snapshot import Snapshots

    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    build_index(path, [source], procs=1)
    backend = EmbeddedBackend(path)
    backend.search(make_request("alpha"))
    backend.search(make_request("council"))
    with backend.snapshots.acquire() as old:
        assert old.postings._terms
    cached_when_opening = []
    open_version = Snapshots._open

    def counting_open(self, *args):
        cached_when_opening.append((len(backend._cache), len(old.postings._terms)))
        return open_version(self, *args)

    monkeypatch.setattr(Snapshots, "_open", counting_open)
    write_article(source, "alpha-extra", "Extra", ["The alpha council on an extra day."])
    update_index(path, [source])
    assert backend.search(make_request("alpha")).total == ARTICLES * PARAGRAPHS + 1
    assert cached_when_opening == [(0, 0)]
    assert len(backend._cache) == 1


def test_a_server_idle_through_two_updates_waits_for_the_new_version_not_the_deleted_one(tmp_path, write_article,
                                                                                          monkeypatch):
    """An update removes the files of versions replaced a minute before. A server idle through two
    updates still holds such a version; requests that come while another opens the new version
    must wait for it rather than be served by files that are gone."""
    from searchapp.backends.embedded.snapshot import Snapshots

    monkeypatch.setattr("searchapp.backends.embedded.whoosh_compat.RETAIN_SECONDS", 0)
    source = _corpus(tmp_path / "alpha", "alpha", write_article)
    path = tmp_path / "index"
    build_index(path, [source], procs=1)
    snapshots = Snapshots(path)
    with snapshots.acquire() as idle:
        old = idle.version
    for number in range(2):
        write_article(source, f"alpha-extra-{number}", "Extra", [f"The alpha council on extra day {number}."])
        update_index(path, [source])
    open_version = Snapshots._open

    def slow_open(self, *args):
        time.sleep(0.5)
        return open_version(self, *args)

    monkeypatch.setattr(Snapshots, "_open", slow_open)
    seen = []

    def request() -> None:
        with snapshots.acquire() as snap:
            seen.append(snap.version)

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the first is opening the new version when the others come
    for thread in threads:
        thread.join()
    assert len(seen) == 3 and old not in seen and len(set(seen)) == 1
    snapshots.close()
