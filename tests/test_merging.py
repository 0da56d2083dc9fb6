"""Merging the updates' segments: a bounded number of segments, the build's left alone, the
files of replaced versions removed after a while, and the same answers as without merging."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.build import build_index
from searchapp.backends.embedded.generations import current_generation, read_meta
from searchapp.backends.embedded.merging import merges_due
from searchapp.backends.embedded.update import update_index
from searchapp.backends.embedded.whoosh_compat import open_reader, read_segments
from searchapp.search import make_request

UPDATES = 16


@dataclass(frozen=True)
class FakeSegment:
    name: str
    live: int

    def doc_count(self) -> int:
        return self.live

    def segment_id(self) -> str:
        return self.name


def _segments(*sizes: int) -> list[FakeSegment]:
    return [FakeSegment(f"s{number}", size) for number, size in enumerate(sizes)]


def _names(groups) -> list[list[str]]:
    return [[segment.name for segment in group] for group in groups]


# --- the policy ------------------------------------------------------------------------


def test_three_segments_of_a_level_stay_and_the_fourth_merges_them():
    assert merges_due(_segments(1, 2, 3)) == []
    assert _names(merges_due(_segments(1, 2, 3, 2))) == [["s0", "s1", "s2", "s3"]]


def test_a_merge_that_fills_the_next_level_merges_it_too():
    """Levels of 16-63, 4-15 and 1-3 paragraphs: four of 1 become one of 4; when that makes four
    of 4-15, and that four of 16-63, all become one."""
    assert _names(merges_due(_segments(16, 20, 30, 1, 1, 1, 1))) == [["s3", "s4", "s5", "s6"]]
    assert _names(merges_due(_segments(16, 20, 30, 5, 6, 7, 4, 1, 1, 1, 1))) == [
        ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10"]]


def test_the_builds_segments_are_never_merged_and_empty_ones_take_no_part():
    segments = _segments(500, 500, 500, 500, 1, 0, 1)
    assert merges_due(segments, built={"s0", "s1", "s2", "s3"}) == []
    assert _names(merges_due(segments)) == [["s0", "s1", "s2", "s3"]]


def test_segments_stay_few_however_many_updates():
    """Simulated: 1,000 updates of 1-30 paragraphs leave at most three segments per level."""
    segments: list[FakeSegment] = []
    for number in range(1000):
        segments.append(FakeSegment(f"u{number}", 1 + number % 30))
        for merge, group in enumerate(merges_due(segments)):
            segments = [s for s in segments if s not in group] + [
                FakeSegment(f"m{number}-{merge}", sum(s.live for s in group))]
        assert len(segments) <= 3 * 7, number  # levels 0-6 (up to 4**7 paragraphs), three each at most
    assert sum(s.live for s in segments) == sum(1 + n % 30 for n in range(1000))


def test_a_merge_can_make_every_field_that_is_not_stored():
    """A merge writes documents from their stored fields: a field added unstored must be derived."""
    from searchapp.fields import FIELDS, stored_document

    stored = {field.name: "2024-03-05" if field.name == "published" else "x" for field in FIELDS if field.stored}
    made = stored_document(stored)
    assert {field.name for field in FIELDS} <= set(made)
    assert made["month"] == "2024-03"


# --- on disk ----------------------------------------------------------------------------


def _live_segments(path: Path) -> list:
    return read_segments(FileStorage(str(current_generation(path))))[1]


def _update_many(path: Path, source: Path, write_article) -> None:
    """UPDATES updates: each adds an article; every third also corrects one of the build's and
    the one the update before added."""
    for number in range(UPDATES):
        write_article(source, f"extra-{number}", f"Extra {number}",
                      [f"The harbour ferry ran late on day {number}.", f"Alpha council note {number}."],
                      published=f"2024-0{1 + number % 3}-1{number % 9}")
        if number % 3 == 2:
            write_article(source, f"base-{number}", f"Base {number} corrected", [f"The corrected report {number}."])
            write_article(source, f"extra-{number - 1}", f"Extra {number - 1} corrected",
                          [f"The ferry was corrected on day {number - 1}."])
        update_index(path, [source])


@pytest.fixture()
def base(tmp_path, write_article) -> Path:
    source = tmp_path / "src"
    for number in range(12):
        write_article(source, f"base-{number}", f"Base {number}",
                      [f"The alpha council met on day {number}.", "Fishing boats left the harbour."],
                      author=f"Desk {number % 3}")
    return source


def test_updates_keep_few_segments_and_leave_the_builds_alone(tmp_path, base, write_article, monkeypatch):
    path = tmp_path / "index"
    monkeypatch.setattr("searchapp.backends.embedded.build.ARTICLES_PER_PROCESS", 2)
    build_index(path, [base], procs=4)
    built = read_meta(path, current_generation(path))["built_segments"]
    assert len(built) == 4
    _update_many(path, base, write_article)
    segments = _live_segments(path)
    # Up to three segments of each level, 1-3, 4-15 and 16-63 paragraphs; unmerged, 4 + UPDATES.
    assert len(segments) <= 4 + 3 * 3, [s.doc_count() for s in segments]
    assert {s.segment_id() for s in segments} >= set(built)
    merged = [s for s in segments if s.segment_id() not in built and s.doc_count_all() > 4]  # more than an update
    assert merged and not any(s.has_deletions() for s in merged)  # corrected paragraphs are left out


def test_an_updated_and_merged_index_answers_as_one_updated_without_merging(tmp_path, base, write_article,
                                                                             monkeypatch):
    merged, unmerged = tmp_path / "merged", tmp_path / "unmerged"
    copy = shutil.copytree(base, tmp_path / "copy")
    for path, source in ((merged, base), (unmerged, copy)):
        build_index(path, [source], procs=1)
    _update_many(merged, base, write_article)
    monkeypatch.setattr("searchapp.backends.embedded.merging.MERGE_FACTOR", 10 ** 6)
    _update_many(unmerged, copy, write_article)
    assert len(_live_segments(merged)) < len(_live_segments(unmerged))

    backends = [EmbeddedBackend(path, cache_size=0) for path in (merged, unmerged)]
    for query in ("harbour", "alpha council", '"corrected report"', "ferry OR boats", "author:\"Desk 1\"", ""):
        pages = [backend.search(make_request(query, per_page=100).with_changes(typing=False)) for backend in backends]
        assert pages[0].total == pages[1].total > 0, query
        assert sorted(h.id for h in pages[0].hits) == sorted(h.id for h in pages[1].hits), query
        facets = [{f.name: {(v.value, v.count) for v in f.values} for f in page.facets} for page in pages]
        assert facets[0] == facets[1], query
    for article in ("extra-7", "base-5", "base-4"):
        views = [backend.article(article, q="ferry") for backend in backends]
        assert views[0].paragraphs and views[0] == views[1], article
    ix = whoosh_index.open_dir(current_generation(merged))  # Whoosh itself reads the merged segments
    try:
        assert ix.doc_count() == backends[1].stats()["paragraphs"]
    finally:
        ix.close()


def _files(path: Path) -> set[str]:
    return set(os.listdir(current_generation(path)))


def test_files_of_replaced_versions_go_once_no_server_can_still_be_opening_them(tmp_path, base, write_article,
                                                                               monkeypatch):
    path = tmp_path / "index"
    build_index(path, [base], procs=1)
    _update_many(path, base, write_article)
    storage = FileStorage(str(current_generation(path)))
    schema, segments, toc = read_segments(storage)
    previous = read_segments(storage, toc - 1)[1]
    with open_reader(storage, schema, previous, toc - 1) as reader:  # the version just replaced still opens
        assert reader.doc_count() > 0

    monkeypatch.setattr("searchapp.backends.embedded.whoosh_compat.RETAIN_SECONDS", 0)
    write_article(base, "last", "Last", ["The last word."])
    update_index(path, [base])
    schema, segments, toc = read_segments(storage)
    kept = {s.segment_id() for s in segments}
    files = _files(path)
    assert [name for name in files if name.endswith(".toc")] == [f"_MAIN_{toc}.toc"]
    assert {name.removeprefix("arrays-") for name in files if name.startswith("arrays-")} == kept
    assert {name.split(".")[0] for name in files if name.startswith("MAIN_")} == kept


def test_an_index_built_before_merging_keeps_its_builds_segments(tmp_path, base, write_article, monkeypatch):
    """Its meta lists no build segments: they must not be taken for updates' and rewritten."""
    from searchapp.backends.embedded.generations import write_meta

    path = tmp_path / "index"
    monkeypatch.setattr("searchapp.backends.embedded.build.ARTICLES_PER_PROCESS", 2)
    build_index(path, [base], procs=4)
    generation = current_generation(path)
    meta = read_meta(path, generation)
    built = meta.pop("built_segments")
    write_meta(generation, meta)
    write_article(base, "extra", "Extra", ["The harbour ferry ran late."])
    update_index(path, [base])
    assert {s.segment_id() for s in _live_segments(path)} >= set(built)
    assert read_meta(path, generation)["built_segments"] == built


def test_an_update_removes_what_a_killed_writer_left(tmp_path, base, write_article):
    path = tmp_path / "index"
    build_index(path, [base], procs=1)
    leftover = current_generation(path) / ".arrays-MAIN_killedwriter0000.tmp"
    leftover.mkdir()
    (leftover / "text.terms.npy").write_bytes(b"half")
    write_article(base, "extra", "Extra", ["The harbour ferry ran late."])
    update_index(path, [base])
    assert not leftover.exists()
