"""The `searchapp` command: through click's CliRunner, and as a real process where it matters."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from searchapp.articles import ReadReport, read_articles, sample_sources
from searchapp.backends.embedded.build import build_index
from searchapp.backends.embedded.generations import writer_lock
from searchapp.cli import main
from searchapp.paragraphs import split_paragraphs

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_FILE = next(sample_sources()[0].glob("*.txt"))
SUMMARY = re.compile(r"^built (?P<path>\S+): (?P<articles>\d+) articles, (?P<paragraphs>\d+) paragraphs, "
                     r"(?P<skipped>\d+) skipped, \d+\.\d\d s$")
HIT_KEYS = {"id", "article_id", "title", "position", "section", "kind", "published", "url", "text", "highlights", "score"}


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    """Each test runs in its own folder, without SEARCHAPP_* settings from outside."""
    for name in list(os.environ):
        if name.startswith("SEARCHAPP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, **kwargs) -> Result:
        return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def run_process(searchapp_command, tmp_path):
    def execute(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHAPP_")} | (env or {})
        return subprocess.run([*searchapp_command, *map(str, args)], capture_output=True, text=True,
                              cwd=tmp_path, env=environment, timeout=120)

    return execute


def assert_one_clear_error(stdout: str, stderr: str, code: int, message: str) -> None:
    """A non-zero exit, the error as the last line of stderr after `searchapp: `, no traceback."""
    assert code != 0
    assert "Traceback" not in stdout + stderr
    assert stderr.strip().splitlines()[-1].startswith(f"searchapp: {message}"), stderr


# --- index build / update / stats --------------------------------------------------------


def test_build_without_sources_indexes_the_bundled_sample(run, tmp_path):
    result = run("index", "build")
    assert result.exit_code == 0, result.output
    summary = SUMMARY.match(result.stdout.strip())
    assert summary, result.stdout
    assert summary.groupdict() == {"path": "index", "articles": "1", "paragraphs": "20", "skipped": "0"}
    assert (tmp_path / "index" / "current").is_symlink()


def test_build_as_a_real_process_prints_the_summary_and_the_skipped_files(run_process, tmp_path):
    done = run_process("index", "build", SAMPLE_FILE, FIXTURES, "--index", tmp_path / "ix")
    assert done.returncode == 0, done.stderr
    summary = SUMMARY.match(done.stdout.strip())
    assert summary and (summary["articles"], summary["paragraphs"], summary["skipped"]) == ("8", "39", "4")
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == [
        f"skipped {FIXTURES / 'binary.txt'}: binary file",
        f"skipped {FIXTURES / 'empty.txt'}: the file is empty",
        f"skipped {FIXTURES / 'wire.jsonl'}:2: not valid JSON (Unterminated string starting at column 57)",
        f"skipped {FIXTURES / 'wire.jsonl'}:3: the record has no 'id'",
    ]
    assert "Traceback" not in done.stderr


def test_update_reports_what_changed(run, tmp_path, write_article):
    src = tmp_path / "src"
    write_article(src, "a", "A", ["Text a."])
    write_article(src, "b", "B", ["Text b."])
    gone = write_article(src, "c", "C", ["Text c."])
    assert run("index", "build", src).exit_code == 0
    write_article(src, "b", "B", ["Text b, changed."])
    write_article(src, "d", "D", ["Text d."])
    gone.unlink()
    result = run("index", "update", src)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"updated index: 2 articles, 2 paragraphs, 0 skipped, \d+\.\d\d s", lines[0])
    assert lines[1] == "added 1, replaced 1, deleted 1, unchanged 1"


def test_stats_as_text_and_json(run):
    assert run("index", "build").exit_code == 0
    text = run("index", "stats").stdout
    assert re.search(r"^articles\s+1$", text, re.M) and re.search(r"^paragraphs\s+20$", text, re.M)
    assert re.search(r"^kind:\s+body \(16\), quote \(2\), related \(2\)$", text, re.M), text
    stats = json.loads(run("index", "stats", "--json").stdout)
    assert {"index", "generation", "paragraphs", "articles", "size_bytes", "built_at", "updated_at", "facets"} <= set(stats)
    assert (stats["articles"], stats["paragraphs"], stats["index"]) == (1, 20, "index")
    assert stats["facets"]["kind"] == [{"value": "body", "count": 16}, {"value": "quote", "count": 2},
                                       {"value": "related", "count": 2}]
    assert stats["facets"]["section"] == [{"value": "Building a new Syria", "count": 9}]


# --- parse ------------------------------------------------------------------------------------


def test_parse_prints_paragraph_documents_as_json_lines(run):
    result = run("parse", SAMPLE_FILE)
    assert result.exit_code == 0
    documents = [json.loads(line) for line in result.stdout.strip().split("\n")]
    [article] = read_articles([SAMPLE_FILE], ReadReport())
    assert documents == [json.loads(json.dumps(p.to_dict())) for p in split_paragraphs(article)]
    assert [d["position"] for d in documents] == list(range(1, 21))


def test_parse_skips_bad_files_and_reads_the_rest(run):
    result = run("parse", FIXTURES)
    assert result.exit_code == 0
    ids = {json.loads(line)["article_id"] for line in result.stdout.strip().split("\n")}
    assert ids == {"bakery-cp1252", "bridge-page-break", "ferry-crlf", "script-injection", "wire-001", "wire-003", "wire-004"}


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def sample_index_dir(tmp_path) -> Path:
    path = tmp_path / "ix"
    build_index(path, sample_sources())
    return path


def test_search_marks_the_matches(run, sample_index_dir):
    result = run("search", "Kremlin", "--index", sample_index_dir, color=True)
    assert result.exit_code == 0
    assert result.stdout.startswith("2 hits (page 1 of 1)\n")
    assert "The \x1b[33m\x1b[1mKremlin\x1b[0m, in a readout" in result.stdout
    assert "[syria-russia-strategic-ties-2025-02-12-p5]" in result.stdout
    plain = run("search", "Kremlin", "--index", sample_index_dir).stdout
    assert "The Kremlin, in a readout" in plain and "\x1b[" not in plain


def test_search_json_shape(run, sample_index_dir):
    result = run("search", "Kremlin", "--index", sample_index_dir, "--json")
    data = json.loads(result.stdout)
    assert {"query", "total", "page", "hits", "facets", "suggestion"} <= set(data)
    assert (data["query"], data["total"], data["page"], data["suggestion"]) == ("Kremlin", 2, 1, None)
    for hit in data["hits"]:
        assert HIT_KEYS <= set(hit)
        assert "<mark>Kremlin</mark>" in hit["highlights"]
        assert isinstance(hit["score"], float) and isinstance(hit["position"], int)
    assert [hit["id"] for hit in data["hits"]] == [  # the shorter paragraph first (BM25's length norm)
        "syria-russia-strategic-ties-2025-02-12-p16", "syria-russia-strategic-ties-2025-02-12-p5",
    ]
    for name, values in data["facets"].items():
        assert all({"value", "count"} <= set(value) for value in values), name
    assert {"value": "body", "count": 2} in [{k: v[k] for k in ("value", "count")} for v in data["facets"]["kind"]]


def test_search_filter_page_and_suggestion(run, sample_index_dir):
    data = json.loads(run("search", "Syria", "--index", sample_index_dir, "--json", "--filter", "kind=quote").stdout)
    assert data["total"] == 2 and {hit["kind"] for hit in data["hits"]} == {"quote"}
    data = json.loads(run("search", "Syria", "--index", sample_index_dir, "--json", "--per-page", "5", "--page", "2").stdout)
    assert data["page"] == 2 and len(data["hits"]) == 5
    data = json.loads(run("search", "Kremlim", "--index", sample_index_dir, "--json").stdout)
    assert data["suggestion"] == "kremlin"


def test_index_option_and_environment_variable(run, tmp_path, sample_index_dir):
    by_variable = run("search", "Kremlin", "--json", env={"SEARCHAPP_INDEX": str(sample_index_dir)})
    assert json.loads(by_variable.stdout)["total"] == 2
    # --index wins over the variable
    overridden = run("search", "Kremlin", "--index", tmp_path / "elsewhere", env={"SEARCHAPP_INDEX": str(sample_index_dir)})
    assert_one_clear_error(overridden.stdout, overridden.stderr, overridden.exit_code, "there is no index at")
    built = run("index", "build", env={"SEARCHAPP_INDEX": str(tmp_path / "by-env")})
    assert built.exit_code == 0 and (tmp_path / "by-env" / "current").is_symlink()


def test_index_variable_in_a_real_process(run_process, sample_index_dir):
    done = run_process("search", "Kremlin", "--json", env={"SEARCHAPP_INDEX": str(sample_index_dir)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 2


# --- bad input: one clear line, never a traceback ---------------------------------------------


def _bad_input_cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "empty-folder").mkdir(exist_ok=True)
    return {
        "missing source": (["index", "build", "no-such-folder", "--index", "ix"], "no such file or folder: no-such-folder"),
        "empty source folder": (["index", "build", "empty-folder", "--index", "ix"], "the sources held no articles"),
        "parse missing": (["parse", "no-such-file.txt"], "no such file or folder"),
        "parse empty folder": (["parse", "empty-folder"], "no .txt or .jsonl files in the named sources"),
        "search without index": (["search", "syria", "--index", "ix"], "there is no index at ix: run `searchapp index build` first"),
        "stats without index": (["index", "stats", "--index", "ix"], "there is no index at ix: run `searchapp index build` first"),
        "update without index": (["index", "update", "--index", "ix"], "there is no index at ix: run `searchapp index build` first"),
        "unknown facet": (["search", "syria", "--index", "built", "--filter", "colour=red"], "There is no facet 'colour'"),
        "page not a number": (["search", "syria", "--index", "built", "--page", "two"], "page must be a whole number"),
        "page zero": (["search", "syria", "--index", "built", "--page", "0"], "page must be between 1 and"),
        "page too deep": (["search", "syria", "--index", "built", "--page", "100000"], "page must be between 1 and"),
        "per-page too big": (["search", "syria", "--index", "built", "--per-page", "100000"], "per_page must be between 1 and"),
    }


BAD_INPUT = [
    "missing source", "empty source folder", "parse missing", "parse empty folder", "search without index",
    "stats without index", "update without index", "unknown facet", "page not a number", "page zero",
    "page too deep", "per-page too big",
]


@pytest.fixture
def bad_input(tmp_path):
    build_index(tmp_path / "built", sample_sources())
    return _bad_input_cases(tmp_path)


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gives_one_clear_line(run, bad_input, case):
    args, message = bad_input[case]
    result = run(*args)
    assert_one_clear_error(result.stdout, result.stderr, result.exit_code, message)
    assert result.exit_code == 1


@pytest.mark.parametrize("case", ["missing source", "empty source folder", "search without index", "unknown facet", "page not a number"])
def test_bad_input_in_a_real_process(run_process, bad_input, case):
    args, message = bad_input[case]
    done = run_process(*args)
    assert_one_clear_error(done.stdout, done.stderr, done.returncode, message)


def test_empty_source_folder_leaves_the_old_index_live(run, tmp_path):
    assert run("index", "build", "--index", "ix").exit_code == 0
    (tmp_path / "empty-folder").mkdir()
    result = run("index", "build", "empty-folder", "--index", "ix")
    assert_one_clear_error(result.stdout, result.stderr, result.exit_code, "the sources held no articles; the previous index")
    assert json.loads(run("index", "stats", "--index", "ix", "--json").stdout)["paragraphs"] == 20


def test_held_lock_gives_one_clear_line(run_process, tmp_path):
    index = tmp_path / "ix"
    build_index(index, sample_sources())
    with writer_lock(index):
        for command in (["index", "build"], ["index", "update"]):
            done = run_process(*command, "--index", index)
            assert_one_clear_error(done.stdout, done.stderr, done.returncode,
                                   f"another build or update is running on {index} (pid {os.getpid()}")
            assert "--wait" in done.stderr


def test_filter_without_equals_sign_gives_one_clear_line(run, bad_input):
    result = run("search", "syria", "--index", "built", "--filter", "kind")
    assert_one_clear_error(result.stdout, result.stderr, result.exit_code, "--filter 'kind' is not FIELD=VALUE")
    assert len(result.stderr.strip().splitlines()) == 1
