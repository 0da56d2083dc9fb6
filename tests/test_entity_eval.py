"""Precision and recall of the default entity extractor on the hand-labelled paragraphs.

tests/entity_labels.jsonl holds 107 labelled paragraphs: the 22 of the bundled seed
article (with their text), 63 corpus paragraphs read while the rules were written
("dev") and 22 labelled after the rules were frozen ("heldout"). Corpus rows hold
only an article id and position (the corpus text may not be committed), so they
are scored only where ../shared/corpus exists.

Thresholds sit below the measured values (README: seed 1.00/1.00, corpus all
0.88/0.88, held-out 0.68/0.74 overall P/R) so that a regression fails while the
small samples' noise does not: 0.90 on the seed (it is the acceptance article),
0.75 overall on all corpus rows (the issue's suggested bar), 0.60 on the held-out
rows alone (22 paragraphs, about 60 names: one name is ~1.5 points).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SHARED = Path(__file__).parents[2] / "shared"


def _load_bench():
    spec = importlib.util.spec_from_file_location("entities_eval", ROOT / "bench" / "entities_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
LABELS = bench.load_labels()


@pytest.fixture(scope="module")
def articles() -> dict[str, dict]:
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared/corpus is absent: corpus paragraphs cannot be scored")
    return bench.read_articles({r["article_id"] for r in LABELS if "article_id" in r}, SHARED / "corpus")


def _cases(articles: dict[str, dict] | None, subsets: set[str]) -> list:
    return [c for c in bench.labelled_cases(LABELS, articles) if bench.subset_of(c) in subsets]


def test_label_file_shape() -> None:
    assert len(LABELS) >= 60
    seed = [r for r in LABELS if r.get("source") == "seed"]
    corpus = [r for r in LABELS if "article_id" in r]
    assert len(seed) >= 20 and len(corpus) >= 40
    assert {r["article_id"].split("-")[0] for r in corpus} == {"bbc", "reuters"}
    assert all("text" not in r for r in corpus)  # corpus text stays out of the repo
    for row in LABELS:
        assert all(isinstance(row[t], list) for t in bench.TYPES)


def test_seed_label_text_matches_bundled_article() -> None:
    sample = (ROOT / "searchapp" / "sample" / "syria-russia-strategic-ties-2025-02-12.txt").read_text(encoding="utf-8")
    for row in LABELS:
        if row.get("source") == "seed":
            assert row["text"] in sample


def test_seed_precision_recall() -> None:
    result = bench.score(_cases(None, {"seed"}))
    assert result["overall"]["precision"] >= 0.90, result
    assert result["overall"]["recall"] >= 0.90, result
    assert result["people"]["recall"] == 1.0, result


def test_corpus_precision_recall(articles: dict[str, dict]) -> None:
    result = bench.score(_cases(articles, {"dev", "heldout"}))
    assert result["overall"]["gold"] >= 100
    assert result["overall"]["precision"] >= 0.75, result
    assert result["overall"]["recall"] >= 0.75, result
    for kind in ("people", "places"):
        assert result[kind]["precision"] >= 0.75 and result[kind]["recall"] >= 0.75, result


def test_heldout_precision_recall(articles: dict[str, dict]) -> None:
    result = bench.score(_cases(articles, {"heldout"}))
    assert result["overall"]["precision"] >= 0.60, result
    assert result["overall"]["recall"] >= 0.60, result


def test_normalise_ignores_case_and_leading_the() -> None:
    assert bench.normalise("The  Kremlin") == bench.normalise("kremlin") == "kremlin"
    assert json.loads(json.dumps(bench.score([])))["overall"]["gold"] == 0
