"""The relevance benchmark's metrics, first-hit dedup and typo edits on hand-computed examples,
and its service ranking on a tiny collection built with the real build (no ../shared needed)."""

from __future__ import annotations

import importlib
import importlib.util
import math
import random
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_metrics():
    spec = importlib.util.spec_from_file_location("relevance_metrics", ROOT / "bench" / "relevance_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


m = _load_metrics()


def osa_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap of neighbours) from `a` to `b`: optimal string alignment."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


# --- metrics -----------------------------------------------------------------------------


def test_ndcg_graded_with_log2_discount():
    judged = {"b": 3, "d": 1, "z": 2}
    dcg = 3 / math.log2(3) + 1 / math.log2(5)  # b at rank 2, d at rank 4
    ideal = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert m.ndcg_at(["a", "b", "c", "d"], judged) == pytest.approx(dcg / ideal)
    assert m.ndcg_at(["b", "z", "d"], judged) == pytest.approx(1.0)


def test_ndcg_counts_only_the_first_k_and_no_negative_grades():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert m.ndcg_at(ranked, {"a": 2}) == 0.0
    assert m.ndcg_at(["a", "n"], {"a": 1, "n": -1}) == pytest.approx(1.0)
    assert m.ndcg_at(["a"], {}) == 0.0


def test_average_precision_over_all_judged_relevant():
    # relevant at ranks 1 and 3; "x" is relevant but never ranked
    assert m.average_precision(["a", "b", "c"], {"a": 1, "c": 4, "x": 1}) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert m.average_precision(["b"], {"a": 1}) == 0.0


def test_precision_at_10_divides_by_10_even_for_short_rankings():
    assert m.precision_at(["a", "b", "c"], {"a": 1, "c": 2}) == pytest.approx(0.2)
    assert m.precision_at([f"d{i}" for i in range(20)], {f"d{i}": 1 for i in range(5, 15)}) == pytest.approx(0.5)


def test_reciprocal_rank_of_the_first_relevant_within_10():
    assert m.reciprocal_rank_at(["a", "b", "c"], {"c": 1, "b": 0}) == pytest.approx(1 / 3)
    assert m.reciprocal_rank_at([f"x{i}" for i in range(10)] + ["c"], {"c": 1}) == 0.0


def test_scores_cut_map_at_the_depth():
    figures = m.scores(["a", "b", "c"], {"c": 1}, depth=2)
    assert figures == {"nDCG@10": pytest.approx(1 / math.log2(4)), "MAP@2": 0.0, "P@10": pytest.approx(0.1),
                       "MRR@10": pytest.approx(1 / 3)}


def test_first_hit_per_article_keeps_rank_order():
    assert m.first_hit_per_article(["7", "3", "7", "9", "3", "1"]) == ["7", "3", "9", "1"]


def test_overlap_of_top_10():
    clean = [f"p{i}" for i in range(12)]
    assert m.overlap_at(["p0", "p1", "q", "p9", "p10"], clean) == pytest.approx(0.3)  # p10 is past the clean top 10
    assert m.overlap_at(["a"], ["a", "b"]) == pytest.approx(0.5)


def test_normalised_query():
    assert m.normalised("  Tony   BLAIR\t") == "tony blair"


# --- typos ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["election", "aaaaa", "abba", "chancellor", "xyz"])
def test_one_edit_keeps_the_first_letter_and_makes_exactly_one_edit(word):
    rng = random.Random(7)
    edits = set()
    for _ in range(300):
        typo, edit = m.one_edit(word, rng)
        edits.add(edit)
        assert typo[0] == word[0]
        assert osa_distance(word, typo) == 1, (word, typo, edit)
    expected = set(m.EDITS) - ({"swap"} if word == "aaaaa" else set())  # no two different neighbours to swap
    assert edits == expected


def test_one_edit_needs_three_letters():
    with pytest.raises(ValueError):
        m.one_edit("ab", random.Random(1))


def test_with_typo_edits_the_longest_word_of_five_letters_or_more():
    rng = random.Random(3)
    for _ in range(100):
        typo, _ = m.with_typo("tony blair chancellor brown", rng)
        assert typo.startswith("tony blair c") and typo.endswith(" brown")
        assert osa_distance("chancellor", typo[len("tony blair "):-len(" brown")]) == 1
    assert m.typo_target("party labour voters").group() == "labour"  # the first of equally long words
    assert m.with_typo("tax cut now", rng) is None


def test_with_typo_is_deterministic_for_a_seed():
    first, again = (m.with_typo("general election", random.Random("s:q")) for _ in range(2))
    assert first == again


# --- the service's ranking, on a tiny collection ----------------------------------------------


@pytest.fixture
def relevance(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is a folder of the checkout, not an installed package
    return importlib.import_module("bench.relevance")


def test_service_ranking_pages_on_and_keeps_each_articles_first_paragraph(relevance, tmp_path):
    filler = "the committee met again on tuesday to discuss the report and its many findings"
    docs = [
        {"id": "10", "title": "Wing flutter", "text": "\n\n".join(["flutter flutter"] * 120)},
        {"id": "20", "title": "Heat transfer", "text": f"flutter once. {filler} {filler}"},
        {"id": "30", "title": "Slabs", "text": "heat conduction in slabs"},
        {"id": "40", "title": "", "text": ""},  # empty in the source: left out
    ]
    collection = relevance.Collection("tiny", docs, [{"id": "1", "text": "flutter"}], {"1": {"20": 1}})
    index = relevance.index_collection(collection, tmp_path)
    with closing(relevance.open_search(index)) as search:
        ranked, details = relevance.service_ranking(search, "flutter", depth=5)
        assert (ranked, details["pages"]) == (["10", "20"], 2)  # article 20's paragraph is hit 121: page 2
        assert relevance.service_ranking(search, "flutter", depth=1)[0] == ["10"]


def test_user_query_is_cut_at_a_word_boundary(relevance):
    assert relevance.user_query(" what  is\nflutter ", 500) == "what is flutter"
    assert relevance.user_query("aaaa bbbb cccc", 10) == "aaaa bbbb"
    assert relevance.user_query("aaaa bbbb", 9) == "aaaa bbbb"


def test_halves_by_odd_and_even_query_id(relevance):
    figures = {"1": {"P@10": 0.2}, "2": {"P@10": 0.4}, "3": {"P@10": 0.0}}
    assert relevance.by_half(figures) == {"tune": {"queries": 2, "P@10": 0.1}, "test": {"queries": 1, "P@10": 0.4},
                                          "all": {"queries": 3, "P@10": 0.2}}
