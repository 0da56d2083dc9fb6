"""Matches marked with `<mark>` in escaped text: fragments of a hit, or a whole paragraph.

Fragments are cut as Whoosh's `ContextFragmenter` cuts them and scored as its
basic scorer does (equal scores go to the earlier fragment), on plain tuples:
Whoosh's highlighter copies a token object through four generators per word,
and was most of the time of showing a page of hits.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Callable

from markupsafe import Markup

from ..fields import WORD_PATTERN

FRAGMENTS = 3
FRAGMENT_CHARS = 220
SURROUND_CHARS = 60  # context around the matches of a fragment
OPENING_CHARS = 240
WHOLE_PARAGRAPH_CHARS = 360  # shorter paragraphs are shown whole, not in fragments
BETWEEN = " … "
_WORD = re.compile(WORD_PATTERN)  # the engines' own words

Word = tuple[int, int, bool, str]  # start, end, whether it matched, its analyzed text
Fragment = tuple[int, int, list[Word]]  # start, end, the matched words in it


def opening(text: str) -> Markup:
    """The first words of a paragraph, for a hit that matched only its title."""
    if len(text) <= OPENING_CHARS:
        return Markup(html.escape(text, quote=False))
    cut = text.rfind(" ", 0, OPENING_CHARS)
    return Markup(html.escape(text[: cut if cut > 0 else OPENING_CHARS], quote=False) + " …")


class WordTerms:
    """Each word as the index has it ('' for a stop word), remembered: a page of hits repeats the
    same words, and analyzing a word alone is slow. One per analyzer configuration, shared by
    the threads and index versions that analyse alike."""

    LIMIT = 200_000

    def __init__(self, term_of: Callable[[str], str]):
        self._term_of = term_of
        self._known: dict[str, str] = {}

    def words(self, text: str) -> tuple[list[re.Match], list[str]]:
        """The words of `text` and what each is in the index, found by C loops where possible."""
        known = self._known
        if len(known) > self.LIMIT:  # a new dict: another thread may be reading the old one
            known = self._known = {}
        words = _WORD.findall(text)
        for word in set(words).difference(known):
            known[word] = self._term_of(word)
        return list(_WORD.finditer(text)), list(map(known.__getitem__, words))


def _words(text: str, terms: set[str], word_terms: WordTerms) -> list[Word]:
    matches, analyzed = word_terms.words(text)
    return [(*match.span(), term in terms, term) for match, term in zip(matches, analyzed)]


def _matched(text: str, terms: set[str], word_terms: WordTerms) -> list[Word]:
    matches, analyzed = word_terms.words(text)
    return [(*matches[i].span(), True, term) for i, term in enumerate(analyzed) if term in terms]


def _format(text: str, start: int, end: int, matches: list[Word]) -> str:
    output, index = [], start
    for word_start, word_end, _, _ in sorted(matches, key=lambda m: (m[0], m[0] - m[1])):
        if word_start < index:
            continue
        output.append(html.escape(text[index:word_start], quote=False))
        output.append(f"<mark>{html.escape(text[word_start:word_end], quote=False)}</mark>")
        index = word_end
    output.append(html.escape(text[index:end], quote=False))
    return "".join(output)


def mark(text: str, terms: set[str], word_terms: WordTerms) -> tuple[Markup, bool]:
    """The whole text, escaped, with the words that analyze to `terms` marked; and whether any was."""
    matches = _matched(text, terms, word_terms) if terms else []
    if not matches:
        return Markup(html.escape(text, quote=False)), False
    return Markup(_format(text, 0, len(text), matches)), True


def _fragments(words: list[Word]) -> list[Fragment]:
    """Runs of matches with up to SURROUND_CHARS of context, at most FRAGMENT_CHARS long."""
    fragments: list[Fragment] = []
    first: int | None = None
    firsts: deque[int] = deque()  # starts of the unmatched words just before, for the context
    countdown = -1  # chars of context still to take after the last match; < 0: not in a fragment
    matches: list[Word] = []
    end = 0
    length = 0
    for word in words:
        start, end, matched, _ = word
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SURROUND_CHARS:
                firsts.popleft()
        elif length + end - start > FRAGMENT_CHARS:
            countdown = 0
        elif matched:
            countdown = SURROUND_CHARS
            if first is None:
                first = firsts[0] if firsts else start
                countdown += 0 if firsts else SURROUND_CHARS
            matches.append(word)
        if countdown >= 0:
            length += end - start
            countdown -= end - start
            if countdown <= 0:
                fragments.append((first, end, matches))
                matches, firsts, first, length = [], deque(), None, 0
    if matches:
        fragments.append((first, end, matches))
    return [fragment for fragment in fragments if fragment[2]]


def _score(fragment: Fragment) -> int:
    """More matches score higher, and different words far higher."""
    matches = fragment[2]
    return len(matches) * (len({word[3] for word in matches}) * 100 or 1)


def snippet(text: str, terms: set[str], word_terms: WordTerms) -> Markup:
    """A hit's paragraph: whole when short, else up to FRAGMENTS fragments around the
    matches, in text order; its opening words when only the title matched."""
    if len(text) <= WHOLE_PARAGRAPH_CHARS:
        marked, matched = mark(text, terms, word_terms)
        return marked if matched else opening(text)
    fragments = _fragments(_words(text, terms, word_terms)) if terms else []
    if not fragments:
        return opening(text)
    best = sorted(range(len(fragments)), key=lambda n: -_score(fragments[n]))[:FRAGMENTS]
    return Markup(BETWEEN.join(_format(text, *fragments[n]) for n in sorted(best, key=lambda n: fragments[n][0])))
