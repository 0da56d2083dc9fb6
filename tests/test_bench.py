"""The benchmarks' own judgement: the checks that count wrong-index answers, the same-size copies
the rebuild run switches between, and the totals the update run expects (held against the real
engine on a small index). The runs themselves are not tested here: they take minutes."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench import rebuild, updates
from bench.common import paragraphs
from searchapp.articles import sample_sources
from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.ranking import QUESTION_WORDS
from searchapp.search.records import SearchRequest


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_marked_copy_has_the_same_paragraphs_each_ending_in_the_marker(tmp_path: Path) -> None:
    source = _write_jsonl(tmp_path / "a.jsonl", [
        {"id": "a-1", "title": "One", "text": "First part.\n\nSecond part.\n\n\n\nThird, after a gap."},
        {"id": "a-2", "title": "Two", "text": "\"Only one,\" she said."},
    ])
    copy = rebuild.marked_corpus(source, "alphaword", tmp_path / "copies" / "a.jsonl")
    original, marked = list(paragraphs([source])), list(paragraphs([copy]))
    assert [p.id for p in marked] == [p.id for p in original] and len(original) == 4
    assert [p.text for p in marked] == [f"{p.text} alphaword" for p in original]


def _answer(*hits: tuple[str, bool], documents: int = 100, corrected: bool = False,
            suggestion: str | None = None) -> bytes:
    return json.dumps({"documents": documents, "corrected": corrected, "suggestion": suggestion,
                       "hits": [{"text": text, "partial": part} for text, part in hits]}).encode()


@pytest.mark.parametrize(("body", "expected"), [
    (_answer(("a alphaword", False), ("b alphaword", False)), ("alphaword", True)),
    (_answer(("a alphaword", False), ("b betaword", False)), ("alphaword", False)),  # a hit of the other copy
    (_answer(("a alphaword", False), ("b betaword", True)), ("alphaword", True)),  # partial hits: not judged
    (_answer(("b betaword", True)), (None, True)),  # the other copy is live: only partial hits
    (_answer(("a alphaword", False), documents=99), ("alphaword", False)),  # another index's count
    (_answer(("x betaword", False), corrected=True, suggestion="betaword x"), (None, True)),  # other words
    (_answer(("x betaword", False), corrected=True, suggestion="alphaword x"), ("alphaword", False)),
    (_answer(), (None, True)),
    (b"<html>", (None, False)),
])
def test_marker_check_flags_hits_without_the_marker(body: bytes, expected: tuple[str | None, bool]) -> None:
    assert partial(rebuild.marker_check, "alphaword", 100)(body) == expected


@pytest.mark.parametrize(("documents", "ids", "expected"), [
    (10, ["bbc-1", "bbc-2"], ("bbc", True)),
    (20, ["reuters-1", "bbc-2"], ("reuters", False)),  # a BBC hit in a Reuters answer
    (15, ["bbc-1"], (None, False)),  # neither index's count
])
def test_corpus_check_matches_hit_ids_to_the_count(documents: int, ids: list[str],
                                                   expected: tuple[str | None, bool]) -> None:
    body = json.dumps({"documents": documents, "hits": [{"id": i} for i in ids]}).encode()
    assert rebuild.corpus_check({10: "bbc", 20: "reuters"}, body) == expected


def test_update_run_expects_what_the_engine_finds(tmp_path: Path) -> None:
    folder = tmp_path / "updates"
    folder.mkdir()
    records = [{"id": f"update-{n:02d}-{k}", "title": f"Port story {n}.{k}",
                "text": f"Ships waited at the port, story {n}.{k}.\n\nMore about the harbour."}
               for n in range(3) for k in range(updates.NEW_PER_UPDATE)]
    index = tmp_path / "index"
    EmbeddedBackend(index).build(sample_sources())

    def found(number: int) -> tuple[int, bool]:
        page = EmbeddedBackend(index, cache_size=0).search(SearchRequest(q=updates.word(number)))  # the live version
        return page.total, page.corrected

    for number in range(3):
        updates.write_update(folder, number, records)
        summary = EmbeddedBackend(index).update([folder])
        assert (summary.added, summary.replaced, summary.deleted) == (updates.NEW_PER_UPDATE, int(number >= 1), 0)
        own, previous = updates.expected_totals(number)
        assert found(number) == (own, False)
        if previous is not None:
            assert found(number - 1) == (previous, False)
    assert found(3) == (0, False)  # not there yet, and three letters from its neighbours: not corrected to one


def test_marked_queries_stay_short_of_a_question() -> None:
    """Four plain words make a question, which any of its words may match: a hit without the marker
    would then be right, and the check could not tell a wrong index."""
    plans = rebuild.marked_plans(2, 100)
    words = [parse_qs(urlsplit(path).query)["q"][0].split() for plan in plans for path in plan.paths]
    assert {w[0] for w in words} == set(rebuild.MARKERS.values())
    assert max(len(w) for w in words) < QUESTION_WORDS
