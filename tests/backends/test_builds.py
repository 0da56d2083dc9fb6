"""Builds and updates on every backend: a rebuild replaces the index atomically, an update goes by
content hash. Each test builds its own empty backend (`empty_backend`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from backend_suite import found
from json_articles import article, articles_file

from searchapp.backends import Backend

SEEN_WITHIN = 2.0  # seconds: the embedded index looks for a new version at most every half second


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + SEEN_WITHIN
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answers(backend: Backend) -> tuple[int, int]:
    """Paragraphs of old and of new articles that one search (one version of the index) finds."""
    hits = found(backend, "rain")
    return sum(h.startswith("old-") for h in hits), sum(h.startswith("new-") for h in hits)


def test_a_rebuild_replaces_the_index_atomically(empty_backend, tmp_path):
    old = [article(f"old-{n}", "Harbour cranes rust in the rain.", "Dockers strike.") for n in range(30)]
    new = [article(f"new-{n}", "Granary roofs leak in the rain.", "Millers complain.") for n in range(30)]
    empty_backend.build([articles_file(tmp_path / "old", old)])
    assert answers(empty_backend) == (30, 0)
    seen: set[tuple[int, int]] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def search_meanwhile() -> None:
        while not done.is_set():
            try:
                seen.add(answers(empty_backend))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        summary = empty_backend.build([articles_file(tmp_path / "new", new)])
        assert eventually(lambda: answers(empty_backend) == (0, 30)), "searches see the new index"
    finally:
        done.set()
        searcher.join()
    assert (summary.articles, summary.paragraphs) == (30, 60)
    assert not errors and seen <= {(30, 0), (0, 30)}, "the old index or the new, never half of one"
    assert empty_backend.overview().documents == 60 and found(empty_backend, "cranes") == set()


def test_an_update_adds_replaces_and_deletes_by_content_hash(empty_backend, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "keep.txt").write_text("Keep\n\nBy Desk\n\nJanuary 2, 2024\n\nLighthouse keepers stay.\n")
    (folder / "gone.txt").write_text("Gone\n\nBy Desk\n\nJanuary 2, 2024\n\nFerries stop running.\n")
    (folder / "change.txt").write_text(
        "Change\n\nBy Desk\n\nJanuary 2, 2024\n\nBakers rise early.\n\nOvens glow.\n\nBread sells out.\n")
    empty_backend.build([folder])
    assert found(empty_backend, "ovens") == {"change-p2"}
    (folder / "gone.txt").unlink()
    (folder / "change.txt").write_text("Change\n\nBy Desk\n\nJanuary 2, 2024\n\nBakers sleep late.\n")
    (folder / "new.txt").write_text("New\n\nBy Desk\n\nJanuary 2, 2024\n\nTrams return.\n")
    summary = empty_backend.update([folder])
    assert (summary.added, summary.replaced, summary.deleted, summary.unchanged) == (1, 1, 1, 1)
    assert eventually(lambda: found(empty_backend, "trams") == {"new-p1"})
    assert found(empty_backend, "ferries") == set() and found(empty_backend, "ovens") == set(), "stale paragraphs go"
    assert found(empty_backend, "bakers") == {"change-p1"} and found(empty_backend, "lighthouse") == {"keep-p1"}
    assert empty_backend.overview().documents == 3 and empty_backend.stats()["updated_at"]
    assert [p.id for p in empty_backend.article("change").paragraphs] == ["change-p1"]
    again = empty_backend.update([folder])
    assert (again.added, again.replaced, again.deleted, again.unchanged) == (0, 0, 0, 3)


def test_entity_names_are_canonical_across_the_archive(empty_backend, tmp_path):
    """A surname alone in one article takes the full name the source's other articles give."""
    stories = [article(f"full-{n}", f"Ronald Reagan met Margaret Thatcher in London on day {n}.") for n in range(3)]
    stories.append(article("short", "Mr Reagan said the talks in London went well."))
    empty_backend.build([articles_file(tmp_path, [{**story, "source": "wire.example"} for story in stories])])
    people = dict(empty_backend.article("short").entities)["people"]
    assert people == ("Ronald Reagan",), "not 'Reagan'"
    reagan = found(empty_backend, "", people=["Ronald Reagan"])
    assert reagan == {"full-0-p1", "full-1-p1", "full-2-p1", "short-p1"}


def test_an_update_names_entities_with_the_archives_counts(empty_backend, tmp_path):
    stories = [{**article(f"full-{n}", f"Ronald Reagan met Margaret Thatcher in London on day {n}."),
                "source": "wire.example"} for n in range(3)]
    empty_backend.build([articles_file(tmp_path / "first", stories)])
    later = {**article("short", "Mr Reagan said the talks in London went well."), "source": "wire.example"}
    empty_backend.update([articles_file(tmp_path / "later", [later])])
    assert dict(empty_backend.article("short").entities)["people"] == ("Ronald Reagan",), "not 'Reagan'"
