"""Graded ranking for questions: long queries rank by how much of the question a paragraph holds.

Two or three words keep "all words first, then some". A question of more
words rarely has a paragraph with all of them (8 of Cranfield's 225), so it is
ranked as an OR of its words instead, each word's BM25F score with Lucene's
idf (Whoosh's lifts the commonest words to about 1, drowning the rare ones)
and the title weighed as the text, the sum multiplied by the share of the
question's idf the paragraph matches, to the power ALPHA (a coordination
factor: more of the question ranks higher, without a wall). ALPHA and the title
weight were chosen on one half of each judged collection's questions (`python
-m bench --parts relevance` reports both halves): the evidence put ALPHA at 0,
a plain sum, which the formula keeps as the knob it is.
"""

from __future__ import annotations

import math

import numpy as np
from whoosh import query as wq

from .matching import SCORES, Deadline, Scored, coordinated

QUESTION_WORDS = 4  # required words (common words aside) from which a query is a question
# Chosen on the tune halves (odd query ids) of Cranfield and TIME, `python -m bench --parts relevance`:
# alpha 0.25 / 0.5 lowered TIME's tune-half nDCG@10 by 0.02 / 0.02 and left Cranfield's within 0.01;
# a bonus for neighbouring words within 1-6 words of each other lowered both (0.1: -0.003 / -0.013).
ALPHA = 0.0
TITLE_WEIGHT = 0.5  # times the index's title boost (2): the title weighs as the text (1: -0.02 / -0.06)


def question_words(q: wq.Query) -> list[wq.Query] | None:
    """The word groups of a question (a conjunction of QUESTION_WORDS or more words and nothing
    else: no exclusions, field names, phrases or OR), or None for a query ranked by tiers."""
    if not isinstance(q, wq.And):
        return None
    children = list(q.children())
    if len(children) < QUESTION_WORDS or not all(_plain_word(child) for child in children):
        return None
    return children


def _plain_word(node: wq.Query) -> bool:
    """A word searched in the title and text fields (with its close spellings, if any)."""
    if isinstance(node, wq.Term):
        return node.fieldname in ("title", "text")
    if isinstance(node, wq.Or | wq.DisjunctionMax):
        return all(_plain_word(child) for child in node.children())
    return False


def question_scores(snap, words: list[wq.Query], deadline: Deadline) -> Scored:
    """Every paragraph with some of the question's words, scored as the module says."""
    searcher = snap.searcher()
    found, weights = [], []
    for word in words:
        word = _without_spellings_of_known_words(word, searcher)
        found.append(snap.postings.evaluate(_reweighted(word, searcher), deadline))
        weights.append(max((_lucene_idf(searcher, field, text) for field, text in word.iter_all_terms()), default=0.0))
    return coordinated(found, np.array(weights, dtype=SCORES), ALPHA, snap.size)


def _without_spellings_of_known_words(word: wq.Query, searcher) -> wq.Query:
    """A word the index has, without its close spellings: in a question of many words they
    add noise far more often than they fix a typo."""
    if isinstance(word, wq.DisjunctionMax):
        typed = [t for t in word.subqueries if isinstance(t, wq.Term) and t.startchar is not None]
        known = typed and searcher.doc_frequency(typed[0].fieldname, typed[0].text)
        return typed[0] if known else word
    if list(word.children()):
        return word.apply(lambda child: _without_spellings_of_known_words(child, searcher))
    return word


def _reweighted(node: wq.Query, searcher) -> wq.Query:
    """The word with Lucene's idf in place of Whoosh's, and the title weighed by TITLE_WEIGHT."""
    if isinstance(node, wq.Term):
        whoosh_idf = searcher.idf(node.fieldname, node.text)
        ratio = _lucene_idf(searcher, node.fieldname, node.text) / whoosh_idf if whoosh_idf else 0.0
        title = TITLE_WEIGHT if node.fieldname == "title" else 1.0
        return wq.Term(node.fieldname, node.text, boost=node.boost * ratio * title)
    return node.apply(lambda child: _reweighted(child, searcher))


def _lucene_idf(searcher, fieldname: str, text: str) -> float:
    n, total = searcher.doc_frequency(fieldname, text), searcher.doc_count_all()
    return math.log(1 + (total - n + 0.5) / (n + 0.5)) if n else 0.0
