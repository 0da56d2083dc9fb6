"""Analysis: a title or text into index terms (words lower-cased, Snowball stems).

Common words (`STOP_WORDS`) are indexed like any other, as Elasticsearch's
standard analyzer does, so that a query of only common words and a phrase
that holds them (`"bank of england"`) match as written; the query leaves them
out where other words are required (`query.without_stop_words`), and BM25's
idf ranks them low where they count. Words of one letter are not indexed.

`NewsAnalyzer` is stored in the index's schema (Whoosh pickles it), so its
class path is part of the index format (`generations.FORMAT`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import Stemmer
from whoosh.analysis import STOP_WORDS, Token, Tokenizer

from ...fields import WORD_PATTERN
from ...search.highlighting import WordTerms

__all__ = ["STOP_WORDS", "NewsAnalyzer"]


class NewsAnalyzer(Tokenizer):
    """Words lower-cased, those of `stoplist` or under `minsize` letters dropped, stemmed by
    Snowball (PyStemmer, in C).

    What `RegexTokenizer | LowercaseFilter | StopFilter | PyStemmerFilter` does,
    in one loop instead of four generators per token: analysis is most of the
    time of a build.
    """

    is_morph = True
    CACHE_SIZE = 200_000

    def __init__(self, stoplist: Iterable[str] = (), minsize: int = 2):
        self.stoplist = frozenset(stoplist)
        self.minsize = minsize
        self._prepare()

    def _prepare(self) -> None:
        self._pattern = re.compile(WORD_PATTERN)
        self._stem_word = Stemmer.Stemmer("english").stemWord
        self._stems, self._index_stems, self.word_terms = _shared_caches(self)

    @property
    def configuration(self) -> tuple[frozenset[str], int]:
        """What the analysis depends on: equal configurations give equal terms."""
        return self.stoplist, self.minsize

    def query_term(self, word: str) -> str:
        """What one word is in the index ('' for a stop word), as a query analyses it."""
        return next((token.text for token in self(word, mode="query")), "")

    def __getstate__(self) -> dict[str, object]:
        return {"stoplist": self.stoplist, "minsize": self.minsize}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._prepare()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer) and self.configuration == other.configuration

    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            if len(self._stems) >= self.CACHE_SIZE:
                self._stems.clear()
            stem = self._stems[word] = self._stem_word(word)
        return stem

    def words(self, value: str) -> list[str]:
        """The lower-cased words of `value`, as `__call__` finds them."""
        if value.isascii():
            return self._pattern.findall(value.lower())
        return [word.lower() for word in self._pattern.findall(value)]  # lower-casing first could change them

    def term_positions(self, value: str, words: list[str] | None = None) -> tuple[dict[str, int | list[int]], int]:
        """Each term of `value` (whose `words` the caller may have) with its position, a list when
        it occurs more than once, and the number of words kept.

        What indexing gets from `__call__`, without a Token per word: the
        words, their stems and the first occurrences go through C loops.
        """
        stems = self._index_stems
        if len(stems) >= self.CACHE_SIZE:
            stems.clear()
        all_stems = list(map(stems.__getitem__, self.words(value) if words is None else words))
        kept = [stem for stem in all_stems if stem]
        if not kept:
            return {}, 0
        first = all_stems.index(kept[0])  # positions count on from the first word kept, as StopFilter renumbers
        found: dict[str, int | list[int]] = dict(zip(kept, range(first, first + len(kept))))
        if len(found) < len(kept):
            found = _positions_of_repeated(kept, first)
        return found, len(kept)

    def __call__(self, value: str, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = self._pattern.finditer(value) if tokenize else [re.match(r".*", value, re.S)]
        kept = None  # position of the last word kept: numbered as Whoosh's StopFilter(renumber=True) does
        for raw, match in enumerate(matches, start=start_pos):
            word = match.group().lower()
            stopped = len(word) < self.minsize or word in self.stoplist
            if stopped and removestops:
                continue
            token.text = word if stopped else self._stem(word)
            token.stopped = stopped
            token.boost = 1.0
            if keeporiginal:
                token.original = match.group()
            if positions:
                if stopped:
                    token.pos = raw
                else:
                    token.pos = kept = raw if kept is None else kept + 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


class _StemCache(dict):
    """word -> stem, or "" for a stop word; computed on first sight."""

    def __init__(self, analyzer: NewsAnalyzer):
        super().__init__()
        self._analyzer = analyzer

    def __missing__(self, word: str) -> str:
        analyzer = self._analyzer
        stopped = len(word) < analyzer.minsize or word in analyzer.stoplist
        stem = self[word] = "" if stopped else analyzer._stem_word(word)
        return stem


_Caches = tuple[dict[str, str], _StemCache, WordTerms]
_CACHES: dict[tuple[frozenset[str], int], _Caches] = {}


def _shared_caches(analyzer: NewsAnalyzer) -> _Caches:
    """The stem caches and the highlighter's word cache of every analyzer configured as
    `analyzer`. Each index version unpickles its own analyzer; with caches of their own, every
    update made a server analyse again every word it had already seen."""
    caches = _CACHES.get(analyzer.configuration)
    if caches is None:
        caches = _CACHES.setdefault(analyzer.configuration,
                                    ({}, _StemCache(analyzer), WordTerms(analyzer.query_term)))
    return caches


def _positions_of_repeated(terms: list[str], first: int) -> dict[str, int | list[int]]:
    found: dict[str, int | list[int]] = {}
    for position, term in enumerate(terms, first):
        seen = found.get(term)
        if seen is None:
            found[term] = position
        elif seen.__class__ is int:
            found[term] = [seen, position]
        else:
            seen.append(position)
    return found
