"""What a query may mean beyond its letters: typo tolerance and synonyms (engine-neutral settings).

Typo tolerance follows Meilisearch's defaults: no typo in words under 5
letters, one from 5, two from 9; the first letter is never changed; none on
numbers, inside phrases or on field values. Synonyms come from a file of
groups, one a line, comma-separated (`united states, us, u.s., usa, america`);
any member of a group also finds the others, multi-word members included, and
the file is read when the service starts (no rebuild).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..fields import WORD_PATTERN

_WORD = re.compile(WORD_PATTERN)


@dataclass(frozen=True)
class TypoPolicy:
    """From which word length one and two typos are allowed; `enabled` False turns typos off."""

    one: int = 5
    two: int = 9
    enabled: bool = True

    def allowed(self, word: str) -> int:
        """How many typos `word` may have."""
        if not self.enabled or any(ch.isdigit() for ch in word):
            return 0
        return 2 if len(word) >= self.two else 1 if len(word) >= self.one else 0

    @classmethod
    def parse(cls, setting: str) -> TypoPolicy:
        """`off`, `on` (the defaults) or `ONE,TWO` (word lengths); ValueError says what is wrong."""
        value = setting.strip().lower()
        if value in ("off", "0", "false", "no"):
            return cls(enabled=False)
        if value in ("", "on", "1", "true", "yes"):
            return cls()
        try:
            one, two = (int(part) for part in value.split(","))
        except ValueError:
            raise ValueError(f"typos must be off, on or two word lengths like 5,9; not {setting!r}") from None
        if not 1 <= one <= two:
            raise ValueError(f"typos: need 1 <= the length for one typo <= the one for two, not {setting!r}")
        return cls(one, two)


def words_of(text: str) -> tuple[str, ...]:
    """The lower-case words of a phrase, as every engine splits them."""
    return tuple(word.lower() for word in _WORD.findall(text))


@dataclass(frozen=True)
class Synonyms:
    """Groups of words and phrases that stand for each other; each entry is a tuple of words."""

    groups: tuple[tuple[tuple[str, ...], ...], ...] = ()
    _by_entry: dict[tuple[str, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for number, group in enumerate(self.groups):
            for entry in group:
                self._by_entry.setdefault(entry, number)

    @property
    def longest(self) -> int:
        return max((len(entry) for entry in self._by_entry), default=0)

    def group_of(self, words: tuple[str, ...]) -> tuple[tuple[str, ...], ...] | None:
        """Every entry of the group holding `words` (itself first), or None."""
        number = self._by_entry.get(words)
        if number is None:
            return None
        return (words, *(entry for entry in self.groups[number] if entry != words))

    @classmethod
    def load(cls, path: str | Path | None) -> Synonyms:
        """The synonyms of a file; `ValueError` names the file and line of a bad one."""
        if not path:
            return cls()
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read the synonyms file {path}: {error}") from None
        groups = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            entries = tuple(dict.fromkeys(words for words in map(words_of, line.split(",")) if words))
            if len(entries) < 2:
                raise ValueError(f"{path}:{number}: a synonym group needs at least two comma-separated entries")
            groups.append(entries)
        return cls(tuple(groups))


@dataclass(frozen=True)
class QueryOptions:
    """How queries are widened: typos and synonyms."""

    typos: TypoPolicy = TypoPolicy()
    synonyms: Synonyms = Synonyms()
