"""The unstemmed words of an index generation, with how many paragraphs use each.

Prefix matching while typing (`elec` → `election`) and spelling suggestions
need real words, not stems. Whoosh would need a second, unstemmed copy of
every title and text in the index for that, nearly doubling the postings a
build writes; this sorted word list, kept beside the index as `words.tsv`,
gives the same at a fraction of the cost.
"""

from __future__ import annotations

import os
import re
import sys
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ...fields import WORD_PATTERN

LEXICON_FILE = "words.tsv"
_WORD = re.compile(WORD_PATTERN)
MAX_WORD = 40


def words_of(*texts: str) -> set[str]:
    """The distinct lower-case words of some texts."""
    return distinct_words(_WORD.findall(" ".join(texts).lower()))  # a space never joins two words


def distinct_words(words: Iterable[str]) -> set[str]:
    """The distinct words of a list of lower-case words, but for the overlong."""
    distinct = set(words)
    if distinct and max(map(len, distinct)) > MAX_WORD:
        distinct = {word for word in distinct if len(word) <= MAX_WORD}
    return distinct


class Lexicon:
    """A sorted word list with paragraph counts."""

    def __init__(self, counts: Counter[str] | None = None):
        self.counts: Counter[str] = counts if counts is not None else Counter()
        self.words = sorted(self.counts)
        self._letters: str | None = None
        self.spellings: dict[tuple[str, int], list[tuple[str, int]]] = {}  # close spellings, remembered

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def __len__(self) -> int:
        return len(self.words)

    def add(self, words: Iterable[str]) -> None:
        """Count one more paragraph for each word (call `seal` when done adding)."""
        self.counts.update(words)

    def letters(self) -> str:
        """Every character that some word has, for spelling variants."""
        if self._letters is None:
            self._letters = "".join(sorted(set().union(*self.words)))
        return self._letters

    def seal(self) -> Lexicon:
        self.words = sorted(self.counts)
        return self

    def completions(self, prefix: str, limit: int, scan: int = 2000) -> list[str]:
        """The most used words that start with `prefix` (looking at `scan` at most)."""
        start = bisect_left(self.words, prefix)
        found = []
        for word in self.words[start:start + scan]:
            if not word.startswith(prefix):
                break
            found.append(word)
        found.sort(key=lambda word: (-self.counts[word], word))
        return found[:limit]

    def save(self, folder: Path) -> None:
        """Write `words.tsv` atomically."""
        temporary = folder / f"{LEXICON_FILE}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.writelines(f"{word}\t{self.counts[word]}\n" for word in self.words)
        os.replace(temporary, folder / LEXICON_FILE)

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """The lexicon of a generation; empty if it has none. Its words are interned: the
        versions a server holds at once while it switches share them rather than each its own."""
        counts: Counter[str] = Counter()
        try:
            with open(folder / LEXICON_FILE, encoding="utf-8") as handle:
                for line in handle:
                    word, _, count = line.rstrip("\n").partition("\t")
                    counts[sys.intern(word)] = int(count or 0)
        except FileNotFoundError:
            pass
        return cls(counts)
