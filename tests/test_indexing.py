"""The index: build, update, stats, the writer lock, the atomic switch and crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from searchapp.articles import sample_sources
from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.build import build_index
from searchapp.backends.embedded.generations import (
    CURRENT,
    GENERATIONS_KEPT,
    META_FILE,
    current_generation,
    writer_lock,
)
from searchapp.backends.embedded.snapshot import Snapshots
from searchapp.backends.embedded.update import update_index
from searchapp.errors import IndexLocked, IndexMissing, SearchIndexError
from searchapp.paragraphs import article_entities
from searchapp.search import make_request

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = [*sample_sources(), FIXTURES]
ARTICLES, PARAGRAPHS = 8, 39  # what SOURCES hold (see tests/fixtures)
BIG = 2000  # synthetic articles of one paragraph: a build of about 1-2 s
MEDIUM = 3000  # long enough for two builds started together to overlap


def open_index(path: Path) -> whoosh_index.Index:
    """The live generation as Whoosh opens it (an independent check of what was written)."""
    generation = current_generation(path)
    if generation is None:
        raise IndexMissing(path)
    return whoosh_index.open_dir(generation)


def doc_count(path: Path) -> int:
    ix = open_index(path)
    try:
        return ix.doc_count()
    finally:
        ix.close()


def stored(path: Path) -> dict[str, dict]:
    """Paragraph id -> stored fields of every document of the live generation."""
    ix = open_index(path)
    try:
        with ix.searcher() as searcher:
            return {fields["id"]: fields for fields in searcher.all_stored_fields()}
    finally:
        ix.close()


def folders(path: Path, prefix: str) -> list[str]:
    return sorted(p.name for p in path.glob(f"{prefix}-*"))


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory, write_articles) -> Path:
    folder = tmp_path_factory.mktemp("big") / "articles"
    write_articles(folder, BIG, paragraphs=1, words=12)
    return folder


@pytest.fixture(scope="module")
def medium_corpus(tmp_path_factory, write_articles) -> Path:
    folder = tmp_path_factory.mktemp("medium") / "articles"
    write_articles(folder, MEDIUM, paragraphs=1, words=12)
    return folder


# --- build -----------------------------------------------------------------------------


def test_build_reports_counts_and_skips_and_switches_to_a_generation(tmp_path):
    path = tmp_path / "index"
    summary = build_index(path, SOURCES)
    assert (summary.articles, summary.paragraphs, summary.path) == (ARTICLES, PARAGRAPHS, str(path))
    assert [line.split(": ")[0] for line in summary.skipped] == [
        str(FIXTURES / name) for name in ("binary.txt", "empty.txt", "wire.jsonl:2", "wire.jsonl:3")
    ]
    assert summary.seconds > 0
    assert doc_count(path) == PARAGRAPHS
    link = path / CURRENT
    assert link.is_symlink() and os.readlink(link).startswith("gen-")
    meta = json.loads((current_generation(path) / META_FILE).read_text())
    assert (meta["articles"], meta["paragraphs"], meta["skipped"]) == (ARTICLES, PARAGRAPHS, summary.skipped)
    assert folders(path, "build") == []


def test_ids_and_documents_are_stable_across_rebuilds(tmp_path):
    path = tmp_path / "index"
    build_index(path, SOURCES)
    first_generation, first = current_generation(path), stored(path)
    build_index(path, SOURCES)
    assert current_generation(path) != first_generation
    assert stored(path) == first
    assert all(doc_id == f"{fields['article_id']}-p{fields['position']}" for doc_id, fields in first.items())


def test_build_of_sources_without_articles_keeps_the_live_index(tmp_path):
    path = tmp_path / "index"
    build_index(path, SOURCES)
    live = current_generation(path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("\n\n")
    summary = build_index(path, [tmp_path / "empty"])
    assert summary.articles == 0 and len(summary.skipped) == 1
    assert current_generation(path) == live and doc_count(path) == PARAGRAPHS
    assert folders(path, "build") == [] and folders(path, "gen") == [live.name]


def test_first_build_without_articles_leaves_no_index(tmp_path):
    (tmp_path / "empty").mkdir()
    path = tmp_path / "index"
    assert build_index(path, [tmp_path / "empty"]).articles == 0
    with pytest.raises(IndexMissing, match="run `searchapp index build` first"):
        open_index(path)


def test_generations_do_not_pile_up(tmp_path):
    path = tmp_path / "index"
    for _ in range(5):
        build_index(path, sample_sources())
        assert len(folders(path, "gen")) <= GENERATIONS_KEPT
    assert folders(path, "build") == []
    assert current_generation(path).name == folders(path, "gen")[-1]


def test_a_failing_build_leaves_the_old_index_and_no_leftovers(tmp_path):
    path = tmp_path / "index"
    build_index(path, SOURCES)
    live = current_generation(path)

    def explode(article):
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        build_index(path, SOURCES, progress=explode)
    assert current_generation(path) == live and doc_count(path) == PARAGRAPHS
    assert folders(path, "build") == []


def test_duplicate_article_ids_keep_the_first(tmp_path, write_article):
    write_article(tmp_path / "src" / "a", "same", "First Title", ["The first one."])
    write_article(tmp_path / "src" / "b", "same", "Second Title", ["The second one."])
    summary = build_index(tmp_path / "index", [tmp_path / "src"])
    assert (summary.articles, summary.paragraphs) == (1, 1)
    assert "article id 'same' appears twice" in summary.skipped[0]
    assert [f["title"] for f in stored(tmp_path / "index").values()] == ["First Title"]


def test_stats(tmp_path):
    path = tmp_path / "index"
    build_index(path, SOURCES)
    stats = EmbeddedBackend(path).stats()
    assert stats["index"] == str(path)
    assert stats["generation"] == current_generation(path).name
    assert stats["paragraphs"] == PARAGRAPHS
    assert stats["size_bytes"] > 1000
    assert stats["built_at"][:4].isdigit() and stats["updated_at"] == ""
    with pytest.raises(IndexMissing):
        EmbeddedBackend(tmp_path / "nothing").stats()


def _stored_in_order(path: Path) -> list[dict]:
    ix = open_index(path)
    try:
        with ix.searcher() as searcher:
            return list(searcher.all_stored_fields())
    finally:
        ix.close()


def test_worker_processes_build_the_same_index_in_the_same_order(tmp_path, monkeypatch, write_articles, readers):
    write_articles(tmp_path / "more", 40, paragraphs=3, seed=5)
    sources = [*SOURCES, tmp_path / "more"]
    single, several = tmp_path / "single", tmp_path / "several"
    build_index(single, sources, procs=1)
    monkeypatch.setattr("searchapp.backends.embedded.build.ARTICLES_PER_PROCESS", 4)
    seen = []
    summary = build_index(several, sources, procs=3, progress=seen.append)
    assert (summary.articles, summary.paragraphs) == (ARTICLES + 40, PARAGRAPHS + 120)
    assert sorted(article.id for article in seen) == sorted(doc["article_id"] for doc in _stored_in_order(several)
                                                            if doc["position"] == 1)
    readers.append(open_index(several).reader())
    assert len(readers[0].leaf_readers()) == 3
    assert _stored_in_order(several) == _stored_in_order(single)
    words = [(current_generation(path) / "words.tsv").read_text() for path in (single, several)]
    assert words[0] == words[1]
    for query in ("putin", "harbour ferry", '"naval base"', "market OR bread"):
        pages = [EmbeddedBackend(path, cache_size=0).search(make_request(query)) for path in (single, several)]
        assert [(h.id, h.score) for h in pages[0].hits] == [(h.id, h.score) for h in pages[1].hits]


def test_a_failing_worker_fails_the_build_and_keeps_the_live_index(tmp_path, monkeypatch):
    path = tmp_path / "index"
    build_index(path, SOURCES)
    live = current_generation(path)
    monkeypatch.setattr("searchapp.backends.embedded.build.ARTICLES_PER_PROCESS", 2)
    # This process finds names with the rules; the worker process, told "nonsense", fails.
    monkeypatch.setattr("searchapp.backends.embedded.segments.article_entities",
                        lambda article, entities: article_entities(article))
    with pytest.raises(SearchIndexError, match="an indexing process failed:(.|\n)*unknown entity extractor"):
        build_index(path, SOURCES, procs=2, entities="nonsense")
    assert current_generation(path) == live and doc_count(path) == PARAGRAPHS
    assert folders(path, "build") == []


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (dead, holding nothing, not yet reaped by init)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_worker_processes_die_with_a_killed_build(tmp_path, big_corpus, searchapp_command):
    build = subprocess.Popen([*searchapp_command, "index", "build", str(big_corpus), "--index", str(tmp_path / "index"),
                              "--procs", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(workers := _children(build.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert len(workers) == 2
    deadline = time.monotonic() + 15
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, workers))
    assert build_index(tmp_path / "index", sample_sources()).articles == 1  # nothing holds the lock


# --- update --------------------------------------------------------------------------------


def test_update_adds_replaces_deletes_and_keeps_unchanged(tmp_path, write_article):
    src, path = tmp_path / "src", tmp_path / "index"
    write_article(src, "alpha", "Alpha", ["Alpha one.", "Alpha two."])
    write_article(src, "beta", "Beta", ["Beta harbour one.", "Beta two.", "Beta three."])
    gamma = write_article(src / "sub", "gamma", "Gamma", ["Gamma one."])
    (src / "wire.jsonl").write_text(
        json.dumps({"id": "w1", "text": "Wire one."}) + "\n" + json.dumps({"id": "w2", "text": "Wire two."}) + "\n")
    build_index(path, [src])
    assert doc_count(path) == 8

    summary = update_index(path, [src])
    assert (summary.added, summary.replaced, summary.deleted, summary.unchanged) == (0, 0, 0, 5)

    os.utime(src / "alpha.txt", (1, 1))  # touched, same content: still unchanged
    write_article(src, "beta", "Beta", ["Beta ferry one."])  # changed, with fewer paragraphs
    write_article(src, "delta", "Delta", ["Delta one.", "Delta two."])  # new
    gamma.unlink()  # source file gone
    (src / "wire.jsonl").write_text(json.dumps({"id": "w1", "text": "Wire one."}) + "\n")  # w2 removed
    summary = update_index(path, [src])
    assert (summary.added, summary.replaced, summary.deleted, summary.unchanged) == (1, 1, 2, 2)
    assert (summary.articles, summary.paragraphs) == (2, 3)  # what was (re)indexed

    docs = stored(path)
    assert sorted(docs) == ["alpha-p1", "alpha-p2", "beta-p1", "delta-p1", "delta-p2", "w1-p1"]
    assert docs["beta-p1"]["text"] == "Beta ferry one."
    assert doc_count(path) == 6
    assert EmbeddedBackend(path).stats()["updated_at"] != ""
    assert update_index(path, [src]).unchanged == 4


def _replace_alpha_paragraph(tmp_path: Path, write_article) -> tuple[Path, Path]:
    src, path = tmp_path / "src", tmp_path / "index"
    write_article(src, "alpha", "Alpha", ["The harbour is calm."])
    write_article(src, "beta", "Beta", ["Nothing changes here."])
    build_index(path, [src])
    return src, path


def test_a_snapshot_sees_an_update_once_and_without_the_replaced_paragraph(tmp_path, write_article, monkeypatch):
    src, path = _replace_alpha_paragraph(tmp_path, write_article)
    monkeypatch.setattr("searchapp.backends.embedded.snapshot.REFRESH_SECONDS", 0)
    snapshots = Snapshots(path)
    with snapshots.acquire() as before:
        assert before.searcher().doc_count() == 2
        write_article(src, "alpha", "Alpha", ["The ferry is late."])
        assert update_index(path, [src]).replaced == 1
        with snapshots.acquire() as after:
            searcher = after.searcher()
            texts = sorted(fields["text"] for fields in searcher.all_stored_fields())
            assert (searcher.doc_count(), texts) == (2, ["Nothing changes here.", "The ferry is late."])
            assert [searcher.stored_fields(n)["id"] for n in searcher.document_numbers(article_id="alpha")] == \
                ["alpha-p1"]
        old = sorted(fields["text"] for fields in before.searcher().all_stored_fields())
        assert old == ["Nothing changes here.", "The harbour is calm."], "a held snapshot keeps its version"
    assert before.closed and not after.closed


def test_search_finds_an_update_at_once(tmp_path, write_article, monkeypatch):
    src, path = _replace_alpha_paragraph(tmp_path, write_article)
    monkeypatch.setattr("searchapp.backends.embedded.snapshot.REFRESH_SECONDS", 0)
    search = EmbeddedBackend(path, cache_size=0)
    assert search.search(make_request("harbour")).total == 1
    write_article(src, "alpha", "Alpha", ["The ferry is late."])
    update_index(path, [src])
    assert search.search(make_request("ferry")).total == 1
    assert search.search(make_request("harbour")).total == 0


def test_update_of_one_source_keeps_articles_of_other_sources(tmp_path, write_article):
    path = tmp_path / "index"
    write_article(tmp_path / "one", "a", "A", ["Text a."])
    write_article(tmp_path / "two", "b", "B", ["Text b."])
    build_index(path, [tmp_path / "one", tmp_path / "two"])
    write_article(tmp_path / "one", "c", "C", ["Text c."])
    summary = update_index(path, [tmp_path / "one"])
    assert (summary.added, summary.deleted, summary.unchanged) == (1, 0, 1)
    assert sorted(stored(path)) == ["a-p1", "b-p1", "c-p1"]
    (tmp_path / "two" / "b.txt").unlink()  # gone, even though not named in this update
    assert update_index(path, [tmp_path / "one"]).deleted == 1
    assert sorted(stored(path)) == ["a-p1", "c-p1"]


def test_update_without_an_index_says_to_build_first(tmp_path):
    with pytest.raises(IndexMissing, match="run `searchapp index build` first"):
        update_index(tmp_path / "index", sample_sources())


# --- the writer lock ------------------------------------------------------------------------


def test_second_writer_gets_index_locked_at_once_with_a_clear_message(tmp_path):
    path = tmp_path / "index"
    build_index(path, sample_sources())
    with writer_lock(path):
        for write in (build_index, update_index):
            started = time.monotonic()
            with pytest.raises(IndexLocked) as caught:
                write(path, sample_sources())
            assert time.monotonic() - started < 0.5
            message = str(caught.value)
            assert f"another build or update is running on {path}" in message
            assert f"pid {os.getpid()}" in message
            assert "--wait" in message
    assert build_index(path, sample_sources()).articles == 1  # released


def _hold_lock(path: Path, seconds: float, locked: threading.Event) -> threading.Thread:
    def hold():
        with writer_lock(path):
            locked.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(5)
    return thread


def test_writer_with_wait_waits_for_the_lock(tmp_path):
    path = tmp_path / "index"
    thread = _hold_lock(path, 0.6, threading.Event())
    started = time.monotonic()
    summary = build_index(path, sample_sources(), wait=10)
    assert time.monotonic() - started >= 0.4
    assert summary.articles == 1
    thread.join()


def test_wait_gives_up_after_its_seconds(tmp_path):
    path = tmp_path / "index"
    thread = _hold_lock(path, 1.5, threading.Event())
    started = time.monotonic()
    with pytest.raises(IndexLocked):
        build_index(path, sample_sources(), wait=0.3)
    assert 0.3 <= time.monotonic() - started < 1.2
    thread.join()


def test_lock_of_a_sigkilled_process_does_not_block(tmp_path):
    path = tmp_path / "index"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from pathlib import Path
            from searchapp.backends.embedded.generations import writer_lock
            with writer_lock(Path({str(path)!r})):
                print("locked", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLocked, match=f"pid {holder.pid}"):
            build_index(path, sample_sources())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    started = time.monotonic()
    assert build_index(path, sample_sources()).articles == 1
    assert time.monotonic() - started < 5


# --- readers during rebuilds --------------------------------------------------------------

READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import searchapp.backends.embedded.snapshot
    searchapp.backends.embedded.snapshot.REFRESH_SECONDS = 0  # look for a new version on every search
    from searchapp.backends.embedded import EmbeddedBackend
    from searchapp.search import make_request

    search, stop = EmbeddedBackend(Path(sys.argv[1]), cache_size=0), Path(sys.argv[2])
    seen = []
    while not stop.exists():
        try:
            page = search.search(make_request(""))
            seen.append([page.total, page.documents])
        except Exception as error:
            seen.append(f"{type(error).__name__}: {error}")
        if len(seen) == 1:
            print("ready", flush=True)
    print(json.dumps(seen))
""")


def test_readers_never_see_an_empty_or_partial_index_during_rebuilds(tmp_path, write_articles):
    small, large = tmp_path / "small", tmp_path / "large"
    write_articles(small, 60, paragraphs=1, seed=2)
    write_articles(large, 45, paragraphs=3, seed=3)
    sizes = {60, 135}
    path, stop = tmp_path / "index", tmp_path / "stop"
    build_index(path, [small])
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        for round_ in range(8):
            build_index(path, [large if round_ % 2 == 0 else small])
            time.sleep(0.15)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=30)
    seen = json.loads(out)
    assert reader.returncode == 0, err
    assert len(seen) > 20
    assert [s for s in seen if not isinstance(s, list) or s[0] != s[1] or s[0] not in sizes] == []
    assert {total for total, _ in seen} == sizes  # it did see both generations


# --- crashes and concurrent writers --------------------------------------------------------


def test_builds_killed_at_any_moment_leave_the_previous_index_serving(tmp_path, big_corpus, write_articles, searchapp_command):
    """20 `searchapp index build` processes SIGKILLed at spread-out moments of a ~1-2 s build."""
    smalls = [(tmp_path / "s1", 3), (tmp_path / "s2", 5)]
    for folder, count in smalls:
        write_articles(folder, count, paragraphs=1, seed=count)
    path = tmp_path / "index"
    command = [*searchapp_command, "index", "build", str(big_corpus), "--index", str(path)]

    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    full_run = time.monotonic() - started
    assert doc_count(path) == BIG

    build_index(path, [smalls[0][0]])
    previous = smalls[0][1]
    killed_mid_build = left_build_folder = 0
    trials = 20
    for trial in range(trials):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full_run * (0.02 + 0.83 * trial / (trials - 1)))  # from start-up to the switch
        process.send_signal(signal.SIGKILL)
        process.wait()

        count = doc_count(path)
        assert count in (previous, BIG), f"trial {trial}: {count} documents"
        assert EmbeddedBackend(path, cache_size=0).search(make_request("")).total == count
        assert len(folders(path, "gen")) <= GENERATIONS_KEPT, folders(path, "gen")
        assert len(folders(path, "build")) <= 1
        killed_mid_build += count == previous and process.returncode == -signal.SIGKILL
        left_build_folder += bool(folders(path, "build"))

        folder, previous = smalls[trial % 2 == 0]  # the next build needs no clean-up and no wait
        assert build_index(path, [folder]).articles == previous
        assert doc_count(path) == previous
        assert folders(path, "build") == [] and len(folders(path, "gen")) <= GENERATIONS_KEPT
    # Timing varies with the machine's load; enough kills must still have hit a build in progress.
    assert killed_mid_build >= trials // 4
    assert left_build_folder >= 3  # ...and left a build folder, which the next build removed


@pytest.mark.parametrize("wait", [False, True], ids=["no-wait", "wait"])
def test_two_builds_at_once_never_corrupt_the_index(tmp_path, medium_corpus, searchapp_command, wait):
    path = tmp_path / "index"
    command = [*searchapp_command, "index", "build", str(medium_corpus), "--index", str(path)]
    if wait:
        command += ["--wait", "120"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    if wait:
        assert codes == [0, 0], results
    else:
        assert codes == [0, 1], results
        [stderr] = [err for code, _, err in results if code == 1]
        assert stderr.strip().splitlines()[-1].startswith(f"searchapp: another build or update is running on {path}")
        assert "Traceback" not in stderr
    assert doc_count(path) == MEDIUM
    assert folders(path, "build") == [] and len(folders(path, "gen")) == codes.count(0)


@pytest.mark.parametrize("procs", [1, 2])
def test_names_are_canonical_across_the_archive_and_its_processes(tmp_path, write_article, monkeypatch, procs):
    """A short form in one article takes the full name another article has, even when the two
    articles are indexed by different processes; an update's new article takes it too."""
    monkeypatch.setattr("searchapp.backends.embedded.build.ARTICLES_PER_PROCESS", 1)
    src, path = tmp_path / "src", tmp_path / "index"
    write_article(src, "a-full", "Talks", ["President Ronald Reagan met the press in Washington."])
    for n in range(3):
        write_article(src, f"b-short-{n}", "More talks", [f"Mr Reagan said on day {n} that talks would go on."])
    build_index(path, [src], procs=procs)
    people = {doc["id"]: doc.get("people", "") for doc in stored(path).values()}
    assert people["b-short-2-p1"] == "Ronald Reagan" and people["a-full-p1"] == "Ronald Reagan"
    write_article(src, "c-new", "Later", ["Mr Reagan spoke again."])
    update_index(path, [src])
    assert stored(path)["c-new-p1"].get("people") == "Ronald Reagan"
