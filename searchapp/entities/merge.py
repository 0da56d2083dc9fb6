"""Names merged across one article: a short form ("Sharaa", "IFS") joins the full form the article
gives ("Ahmed al-Sharaa", "Institute of Fiscal Studies"). Shared by every extractor."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .lexicon import CONNECTORS, ORG, PERSON, PLACE, POSSESSIVE, Lexicon, after_title, lexicon

_ACRONYM = re.compile(r"(?:[A-Z]&?){2,6}|(?:[A-Z]\.){2,}")


@dataclass(frozen=True)
class Entities:
    """The names one paragraph mentions, each tuple sorted and de-duplicated. `untyped` holds the
    names the article cannot type ("Radiohead" with no "band" before it); across the archive a
    `Canonicalizer` may (see `canonical`), and a paragraph's facets leave them out."""

    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    untyped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """A name as found in a paragraph; ``kind`` is None while only the article can tell."""

    text: str
    kind: str | None
    acronym: bool = False
    hint: str | None = None  # the kind to take if the article has no full form for it
    parts: tuple[Mention, ...] = ()  # known names inside an unknown run, if it is no short form


def normalise_mention(text: str, kind: str) -> Mention | None:
    """A name found by another extractor, cleaned like ours: no leading "the", possessive
    or title; None if nothing is left."""
    lex = lexicon()
    tokens = [POSSESSIVE.sub("", t) for t in text.split()]
    if tokens and tokens[0] in ("the", "The"):
        tokens = tokens[1:]
    if kind == PERSON:
        rest = after_title(tokens, lex)
        tokens = tokens if rest is None else rest
    if not tokens or (len(tokens) == 1 and tokens[0] in lex.words["demonym"]):
        return None
    name = " ".join(tokens)
    return Mention(name, kind, acronym=kind == ORG and bool(_ACRONYM.fullmatch(name)))


def initials(name: str) -> str:
    """"Institute of Fiscal Studies" -> "IFS"."""
    return "".join(w[0] for w in name.split() if w not in CONNECTORS and w[0].isupper())


def surname_keys(name: str) -> list[str]:
    """The short forms a person's full name goes by: "Sharaa" and "al-Sharaa" for "Ahmed al-Sharaa"."""
    last = name.split()[-1]
    return [last, last[3:]] if last.startswith(("al-", "el-")) else [last]


class _ArticleIndex:
    """Full names of an article, by the short forms that may stand for them."""

    def __init__(self, mentions: Iterable[Mention], lex: Lexicon) -> None:
        self.people: dict[str, str] = {}
        self.orgs: dict[str, str] = {}
        self.acronyms: dict[str, str] = {}
        self.places = lex.places
        generic = lex.generic
        for m in mentions:
            if " " not in m.text:
                continue
            kind = m.kind or (PERSON if m.hint == PERSON and not m.parts else None)  # "C Joseph LaBonte"
            if kind is None or kind == PLACE:
                continue
            words = m.text.split()
            if kind == PERSON:
                for key in surname_keys(m.text):
                    self.people.setdefault(key, m.text)
                if len(words) > 2:
                    self.people.setdefault(f"{words[0]} {words[-1]}", m.text)
            else:
                self.acronyms.setdefault(initials(m.text), m.text)
                if words[-1] in lex.words["org_last"]:
                    self.acronyms.setdefault(initials(" ".join(words[:-1])), m.text)
                for size in (1, 2):
                    prefix = " ".join(words[:size])
                    if size < len(words) and prefix not in generic:
                        self.orgs.setdefault(prefix, m.text)

    def add(self, m: Mention, kinds: dict[str | None, set[str]]) -> None:
        """Add the full forms a mention stands for to `kinds` (kind -> names; None for untyped)."""
        text, kind = m.text, m.kind
        if m.acronym:
            kinds[ORG].add(self.acronyms.get(text.replace("&", "").replace(".", ""), text))
        elif kind == ORG:
            kinds[ORG].add(text)
        elif kind == PLACE:
            if text in self.orgs and text not in self.places:  # "Giant Bay" of "Giant Bay Resources Ltd"
                kinds[ORG].add(self.orgs[text])
            else:
                kinds[PLACE].add(text)
        elif text in self.people:
            kinds[PERSON].add(self.people[text])
        elif kind == PERSON:
            kinds[PERSON].add(text)
        elif text in self.orgs:
            kinds[ORG].add(self.orgs[text])
        elif m.parts:
            for part in m.parts:
                self.add(part, kinds)
        else:
            kinds[m.hint].add(text)


def merge_mentions(per_paragraph: Sequence[Sequence[Mention]]) -> list[Entities]:
    """One Entities per paragraph, short forms replaced by the article's full forms."""
    index = _ArticleIndex((m for ms in per_paragraph for m in ms), lexicon())
    result = []
    for mentions in per_paragraph:
        kinds: dict[str | None, set[str]] = {PERSON: set(), PLACE: set(), ORG: set(), None: set()}
        for mention in mentions:
            index.add(mention, kinds)
        result.append(Entities(tuple(sorted(kinds[PERSON])), tuple(sorted(kinds[PLACE])),
                               tuple(sorted(kinds[ORG])), tuple(sorted(kinds[None]))))
    return result
