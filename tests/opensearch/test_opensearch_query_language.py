"""The query language's parse trees and their DSL (no cluster needed)."""

from __future__ import annotations

import pytest

from searchapp.backends.opensearch.query_language import Group, Not, Phrase, Term, parse, translate


def tree(q: str, typing: bool = False):
    return parse(q, typing).tree


def test_neighbours_are_and_ed_after_or_binds_its_two_sides():
    assert tree("war peace OR truce") == Group("and", [Term("war"), Group("or", [Term("peace"), Term("truce")])])
    assert tree("(war peace) OR truce") == Group("or", [Group("and", [Term("war"), Term("peace")]), Term("truce")])
    assert tree("war OR peace OR truce") == Group("or", [Group("or", [Term("war"), Term("peace")]), Term("truce")])


def test_exclusions_phrases_and_fields():
    assert tree('-war "naval base"') == Group("and", [Not(Term("war")), Phrase("naval base")])
    assert tree("NOT war peace") == Group("and", [Not(Term("war")), Term("peace")])
    assert tree('section:"Building a new Syria" title:(war peace)') == Group("and", [
        Phrase("Building a new Syria", "section"), Group("and", [Term("war", "title"), Term("peace", "title")])])
    assert tree("well-known x-ray") == Group("and", [Term("well-known"), Term("x-ray")]), "a hyphen inside a word"


@pytest.mark.parametrize("q", ["", "OR", "AND OR NOT", "-", "()", ")(", '""', "title:", "((war", "war)", "- -",
                               "NOT", "war OR", "(OR)", "title:(", '"'])
def test_odd_queries_parse_without_errors(q):
    dsl, notices, relaxed = translate(q)
    assert relaxed is None or isinstance(relaxed, dict)
    assert dsl is None or isinstance(dsl, dict)


def test_only_the_last_plain_word_completes_while_typing():
    assert tree("war elec", typing=True) == Group("and", [Term("war"), Term("elec", complete=True)])
    assert tree("war -elec", typing=True) == Group("and", [Term("war"), Not(Term("elec"))])
    assert tree("war NATO", typing=True) == Group("and", [Term("war"), Term("NATO")]), "upper case: an acronym"
    assert tree("war e", typing=True) == Group("and", [Term("war"), Term("e")]), "one letter completes nothing"
    assert tree('"war elec"', typing=True) == Phrase("war elec")


def test_stop_words_are_left_out_unless_they_are_all_there_is():
    dsl, _, _ = translate("the harbour", typing=False)
    assert dsl == {"multi_match": {"query": "harbour", "fields": ["title^2", "text^1"], "type": "cross_fields",
                                   "operator": "and", "tie_breaker": 1.0}}
    dsl, _, _ = translate("to be", typing=False)
    assert [c["multi_match"]["fields"] for c in dsl["bool"]["must"]] == [["title.exact^2", "text.exact^1"]] * 2


def test_patterns_need_two_letters_before_the_wildcard():
    assert translate("e*")[0] is None
    assert translate("el*")[0] == {"bool": {"should": [
        {"prefix": {"title.exact": {"value": "el", "boost": 2.0}}},
        {"prefix": {"text.exact": {"value": "el", "boost": 1.0}}}], "minimum_should_match": 1}}
    assert translate("title:el?ct*")[0] == {"wildcard": {"title.exact": {"value": "el?ct*", "boost": 2.0}}}


def test_the_relaxed_query_needs_any_one_required_part_and_keeps_exclusions():
    dsl, _, relaxed = translate("war peace -truce", typing=False)
    assert relaxed == {"bool": {"should": dsl["bool"]["must"], "minimum_should_match": 1,
                                "must_not": dsl["bool"]["must_not"]}}
    assert translate("war -truce", typing=False)[2] is None, "one required part: nothing to relax"
    assert translate("war OR peace", typing=False)[2] is None
    assert translate("to be or not", typing=False)[2] is None, "stop words only: some of them is everything"
