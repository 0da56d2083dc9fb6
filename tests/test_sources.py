"""Source-file safety: what is read, what is skipped (with a warning), and that nothing else is opened."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from searchapp import articles
from searchapp.articles import ReadReport, SkippedSource, SourceError, read_articles

_OPENED: list[str] | None = None  # files opened while recording (see `recording_opens`)


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _OPENED is not None and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while asked to


@contextmanager
def recording_opens() -> Iterator[list[str]]:
    """The paths every `open` of this process names inside the `with` block."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def read(*sources: Path) -> tuple[list[str], ReadReport]:
    report = ReadReport()
    return [article.id for article in read_articles(sources, report)], report


@pytest.fixture
def source(tmp_path, write_article) -> Path:
    """A source folder with one good article in it and a sibling folder that must never be read."""
    folder = tmp_path / "source"
    write_article(folder, "good", "A Good Article", ["It is read."])
    write_article(tmp_path / "outside", "secret", "Outside", ["Never read."])
    return folder


def test_folders_are_searched_recursively_for_txt_and_jsonl_only(source, write_article):
    write_article(source / "a" / "b", "deep", "Deep", ["Nested two folders down."])
    (source / "a" / "wire.JSONL").write_text('{"id": "upper-jsonl", "text": "Read as JSON Lines."}\n')
    write_article(source, "SHOUTING", "Upper Case Suffix", ["Read too."]).rename(source / "SHOUTING.TXT")
    for ignored in ("notes.md", "data.csv", "good.txt~", ".hidden.txt", "article.txt.bak"):
        (source / ignored).write_text("Title\n\nA paragraph that must not be indexed.")
    ids, report = read(source)
    assert ids == ["SHOUTING", "good", "upper-jsonl", "deep"]  # a folder's files, then its subfolders
    assert report.skipped == [] and report.files == 4


def test_a_file_source_is_read_whatever_its_suffix(tmp_path, write_article):
    path = write_article(tmp_path, "named", "Named", ["Named explicitly."]).rename(tmp_path / "named.article")
    assert read(path)[0] == ["named"]


def test_a_missing_source_raises_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        read(tmp_path / "missing")


def test_binary_file_is_skipped_with_a_warning(source, caplog):
    binary = source / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"):
        ids, report = read(source)
    assert ids == ["good"]
    assert report.skipped == [SkippedSource(str(binary), "binary file")]
    assert f"skipped {binary}: binary file" in caplog.messages


def test_file_over_the_size_limit_is_skipped_without_being_read(source, monkeypatch, caplog):
    monkeypatch.setattr(articles, "MAX_FILE_BYTES", 200)
    big = source / "big.txt"
    big.write_text("A Big Article\n\n" + "Words and more words. " * 20)
    big_jsonl = source / "big.jsonl"
    big_jsonl.write_text('{"id": "j", "text": "' + "x" * 300 + '"}\n')
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"), recording_opens() as opened_files:
        ids, report = read(source)
    assert ids == ["good"]
    assert [(s.path, s.reason.split(" ")[:2]) for s in report.skipped] == [
        (str(big_jsonl), ["larger", "than"]), (str(big), ["larger", "than"]),
    ]
    assert str(big) not in opened_files and str(big_jsonl) not in opened_files
    assert len([m for m in caplog.messages if m.startswith("skipped ")]) == 2


def test_symlinks_leading_out_of_the_source_folder_are_skipped(source, tmp_path, caplog):
    outside = tmp_path / "outside" / "secret.txt"
    (source / "link-out.txt").symlink_to(outside)
    (source / "link-up.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (source / "folder-out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (source / "link-in.txt").symlink_to(source / "good.txt")
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"), recording_opens() as opened_files:
        ids, report = read(source)
    assert ids == ["good", "link-in"]  # a link within the folder is fine
    assert report.skipped == [
        SkippedSource(str(source / "link-out.txt"), "symbolic link leads outside the source folder"),
        SkippedSource(str(source / "link-up.txt"), "symbolic link leads outside the source folder"),
    ]
    assert not [path for path in opened_files if "outside" in path]
    assert len(caplog.messages) == 2


def test_a_broken_symlink_is_skipped(source):
    (source / "dangling.txt").symlink_to(source / "nowhere.txt")
    ids, report = read(source)
    assert ids == ["good"]
    assert [s.path for s in report.skipped] == [str(source / "dangling.txt")]


def test_unreadable_file_is_skipped_with_a_warning(source, monkeypatch, caplog):
    # Tests run as root, where chmod 000 does not stop reads: make this one file's read fail instead.
    locked = source / "locked.txt"
    locked.write_text("Locked\n\nCannot be read.")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"):
        ids, report = read(source)
    assert ids == ["good"]
    assert report.skipped == [SkippedSource(str(locked), "Permission denied")]
    assert f"skipped {locked}: Permission denied" in caplog.messages


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_chmod_000_file_is_skipped(source):
    locked = source / "locked.txt"
    locked.write_text("Locked\n\nCannot be read.")
    locked.chmod(0)
    ids, report = read(source)
    assert ids == ["good"]
    assert report.skipped == [SkippedSource(str(locked), "Permission denied")]


def test_a_fifo_is_skipped_instead_of_blocking_the_reader(source):
    os.mkfifo(source / "pipe.txt")
    outcome: list = []
    reader = threading.Thread(target=lambda: outcome.append(read(source)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading the source blocked on a FIFO"
    ids, report = outcome[0]
    assert ids == ["good"]
    assert report.skipped == [SkippedSource(str(source / "pipe.txt"), "not a regular file")]


def test_nothing_outside_the_named_sources_is_opened(source, tmp_path, write_article):
    second = write_article(tmp_path / "elsewhere", "named-file", "Named", ["Named by itself."])
    write_article(tmp_path / "elsewhere", "sibling", "Sibling", ["Not named."])
    (source / "link-out.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    with recording_opens() as opened_files:
        ids, _ = read(source, second)
    assert ids == ["good", "named-file"]
    read_paths = {Path(path) for path in opened_files}
    assert read_paths == {source / "good.txt", second}
