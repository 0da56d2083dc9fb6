"""The bundled word lists of the rules extractor (``searchapp/data/entities_*.txt``), read once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PERSON, PLACE, ORG = "person", "place", "org"

CONNECTOR = r"(?:of|for|and|&|de|du|la|le|van|von|der|den|da|di|bin|ibn)"
CONNECTORS = frozenset(CONNECTOR[3:-1].split("|"))
POSSESSIVE = re.compile(r"['’]s$")
POSSESSIVE_ENDS = ("'s", "’s")
# Two-letter words, which the common-word list (3+ letters) leaves out: in capitals they are words too.
_SHORT_WORDS = "am an as at be by do go he if in is it me my no of oh ok on or so to up us we".split()


@dataclass(frozen=True)
class Lexicon:
    places: frozenset[str]
    orgs: frozenset[str]
    given: frozenset[str]
    common: frozenset[str]
    words: dict[str, frozenset[str]]
    keep_possessive: frozenset[str]
    titles: frozenset[str]  # title and title_follow words
    nothing_alone: frozenset[str]  # words that name nothing as a run of their own ("The", "But")
    generic: frozenset[str]  # org_first, org_last and place words: too general to stand for a name
    cues: frozenset[str]  # the lower-case words before a run that change its kind
    caps_words: frozenset[str]  # ordinary words in capitals ("NOTE", "WHO", "US"), wire markers included
    titled_places: dict[str, str]  # "NEW YORK" -> "New York": the gazetteers in capitals
    titled_orgs: dict[str, str]


def data_lines(name: str) -> Iterable[str]:
    """The lines of a bundled data file, without blank lines and # comments."""
    text = resources.files("searchapp").joinpath("data", name).read_text(encoding="utf-8")
    return (line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The bundled word lists, read once."""
    words: dict[str, set[str]] = {}
    section = ""
    for line in data_lines("entities_words.txt"):
        if line.startswith("["):
            section = line.strip("[]")
            words[section] = set()
        else:
            words[section].update(line.split())
    orgs = frozenset(data_lines("entities_organisations.txt"))
    given = frozenset(w for line in data_lines("entities_given_names.txt") for w in line.split())
    keep = frozenset(w for name in orgs for w in name.split() if POSSESSIVE.search(w))
    common = frozenset(data_lines("entities_common_words.txt"))
    places = frozenset(data_lines("entities_places.txt"))
    nothing_alone = frozenset(w for w in words["stop"] | CONNECTORS if w not in places and w not in orgs
                              and "-" not in w and not w.endswith(POSSESSIVE_ENDS))
    ordinary = common | {w.lower() for w in words["stop"]} | set(_SHORT_WORDS)
    caps_words = frozenset({w.upper() for w in ordinary} | words["wire"])
    return Lexicon(
        places, orgs, given, common, {k: frozenset(v) for k, v in words.items()}, keep,
        frozenset(words["title"] | words["title_follow"]), nothing_alone,
        frozenset(words["org_first"] | words["org_last"] | places),
        frozenset(words["person_cue"] | words["org_cue"] | words["place_cue"]), caps_words,
        {name.upper(): name for name in places}, {name.upper(): name for name in orgs if not name.isupper()},
    )


def after_title(tokens: list[str], lex: Lexicon) -> list[str] | None:
    """The name after a title ("Foreign Minister Asaad al-Shaibani" -> its last two words),
    [] for a bare title ("Archbishop of Canterbury"), None if the run has no title."""
    heads = [i for i, t in enumerate(tokens) if t in lex.words["title"]]
    if not heads:
        return None
    i = heads[-1] + 1
    while i < len(tokens) and (tokens[i] in lex.words["title_follow"] or tokens[i] == "of"):
        i += 2 if tokens[i] == "of" else 1
    return tokens[i:]
