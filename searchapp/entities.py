"""People, places and organisations named in an article's paragraphs, for search facets.

The default extractor is rule-based, pure Python and offline: capitalised runs
of words are found with one precompiled regex and typed with small bundled word
lists (``searchapp/data/entities_*.txt``) and the word right before them. Names
are then merged across the article: a short form ("Sharaa", "Mr Straw", "IFS")
joins the full form it stands for ("Ahmed al-Sharaa", "Jack Straw",
"Institute of Fiscal Studies"), and titles and possessives are dropped.
``extractor="spacy"`` uses spaCy instead (the optional ``entities-spacy`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PERSON, PLACE, ORG = "person", "place", "org"

_WORD = r"(?:(?:[A-Z]\.){2,}|(?:al-|el-)?[A-Z][A-Za-z0-9]*(?:[-&'’][A-Za-z0-9]+)*)"
_CONNECTOR = r"(?:of|and|&|de|du|la|le|van|von|der|den|da|di|bin|ibn)"
_SPAN = re.compile(rf"{_WORD}(?:(?: +{_CONNECTOR})? +(?:{_WORD}|\d+\b))*")
_CONNECTORS = frozenset(_CONNECTOR[3:-1].split("|"))
_SPLITTERS = frozenset({"and", "&"})
SPAN_CACHE = 50_000  # runs of capitalised words whose mentions are remembered
_ACRONYM = re.compile(r"(?:[A-Z]&?){2,6}|(?:[A-Z]\.){2,}")
_POSSESSIVE = re.compile(r"['’]s$")
_POSSESSIVE_ENDS = ("'s", "’s")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
_PREV_WORD = re.compile(r"([A-Za-z]+)\W{0,2}$")
_TAG = re.compile(r"</?[a-z][a-z0-9]*\s*/?>")
_TICKER = re.compile(r"<[A-Z0-9.]+>")
_ABBREV_DOT = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Prof|Rev)\.")
_INITIAL_DOT = re.compile(r"(?<= )([A-Z])\. (?=[A-Z][a-z])")
_DATELINE = re.compile(
    r"^([A-Z][A-Z.' -]{1,30}?)(?:, ([A-Z][A-Z.]{1,8}))?, "
    r"(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2} - ")
_STATES = {
    "ALA.": "Alabama", "ARIZ.": "Arizona", "CALIF.": "California", "COLO.": "Colorado",
    "CONN.": "Connecticut", "DEL.": "Delaware", "FLA.": "Florida", "GA.": "Georgia",
    "ILL.": "Illinois", "IND.": "Indiana", "KAN.": "Kansas", "KY.": "Kentucky",
    "LA.": "Louisiana", "MASS.": "Massachusetts", "MD.": "Maryland", "MICH.": "Michigan",
    "MINN.": "Minnesota", "MO.": "Missouri", "N.C.": "North Carolina", "N.J.": "New Jersey",
    "N.Y.": "New York", "NEB.": "Nebraska", "OKLA.": "Oklahoma", "ORE.": "Oregon",
    "PA.": "Pennsylvania", "TENN.": "Tennessee", "TEXAS": "Texas", "VA.": "Virginia",
    "WASH.": "Washington", "WIS.": "Wisconsin", "ONT.": "Ontario", "B.C.": "British Columbia",
}
_MAX_GAZETTEER_WORDS = 4


@dataclass(frozen=True)
class Entities:
    """The names one paragraph mentions, each tuple sorted and de-duplicated."""

    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """A name as found in a paragraph; ``kind`` is None while only the article can tell."""

    text: str
    kind: str | None
    acronym: bool = False
    hint: str | None = None  # the kind to take if the article has no full form for it
    parts: tuple[Mention, ...] = ()  # known names inside an unknown run, if it is no short form


@dataclass(frozen=True)
class _Lexicon:
    places: frozenset[str]
    orgs: frozenset[str]
    given: frozenset[str]
    common: frozenset[str]
    words: dict[str, frozenset[str]]
    keep_possessive: frozenset[str]
    titles: frozenset[str]  # title and title_follow words
    nothing_alone: frozenset[str]  # words that name nothing as a run of their own ("The", "But")
    generic: frozenset[str]  # org_first, org_last and place words: too general to stand for a name


def _data_lines(name: str) -> Iterable[str]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return (line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    """The bundled word lists, read once."""
    words: dict[str, set[str]] = {}
    section = ""
    for line in _data_lines("entities_words.txt"):
        if line.startswith("["):
            section = line.strip("[]")
            words[section] = set()
        else:
            words[section].update(line.split())
    orgs = frozenset(_data_lines("entities_organisations.txt"))
    given = frozenset(w for line in _data_lines("entities_given_names.txt") for w in line.split())
    keep = frozenset(w for name in orgs for w in name.split() if _POSSESSIVE.search(w))
    common = frozenset(_data_lines("entities_common_words.txt"))
    places = frozenset(_data_lines("entities_places.txt"))
    nothing_alone = frozenset(w for w in words["stop"] | _CONNECTORS if w not in places and w not in orgs
                              and "-" not in w and not w.endswith(_POSSESSIVE_ENDS))
    return _Lexicon(places, orgs, given, common, {k: frozenset(v) for k, v in words.items()}, keep,
                    frozenset(words["title"] | words["title_follow"]), nothing_alone,
                    frozenset(words["org_first"] | words["org_last"] | places))


def clean_text(text: str) -> str:
    """Markup, ticker symbols and abbreviation dots removed, so that names read as plain runs."""
    if "<" in text or ">" in text:
        text = _TICKER.sub("", _TAG.sub("", text)).replace("<", "").replace(">", "")
    return _INITIAL_DOT.sub(r"\1 ", _ABBREV_DOT.sub(r"\1", text))


def _is_headline(text: str, lex: _Lexicon) -> bool:
    """True for title-case lines ("Related article: Syria Could Let Russia Keep ..."):
    most of their common English words are capitalised."""
    common = [w for w in _LONG_WORD.findall(text) if w.lower() in lex.common and w not in lex.titles]
    return len(common) >= 3 and len([w for w in common if w[0].isupper()]) / len(common) > 0.7


def _dateline(text: str) -> tuple[list[Mention], str]:
    """Places of a wire dateline ("ELMHURST, ILL., March 20 - ") and the text after it."""
    match = _DATELINE.match(text)
    if not match:
        return [], text
    city = " ".join(w.capitalize() for w in match.group(1).split())
    found = [Mention(city, PLACE)]
    if match.group(2) in _STATES:
        found.append(Mention(_STATES[match.group(2)], PLACE))
    return found, text[match.end():]


def _gazetteer_kind(name: str, lex: _Lexicon) -> str | None:
    if name in lex.places:
        return PLACE
    return ORG if name in lex.orgs else None


def _strip_ends(tokens: list[str], lex: _Lexicon) -> list[str]:
    """Drop stop words, connectors and numbers from both ends of a run."""
    stop = lex.words["stop"]
    while tokens and (tokens[0] in stop or tokens[0] in _CONNECTORS or tokens[0].isdigit()):
        tokens = tokens[1:]
    while tokens and (tokens[-1] in stop or tokens[-1] in _CONNECTORS or tokens[-1].isdigit()):
        tokens = tokens[:-1]
    return tokens


def _after_title(tokens: list[str], lex: _Lexicon) -> list[str] | None:
    """The name after a title ("Foreign Minister Asaad al-Shaibani" -> its last two words),
    [] for a bare title ("Archbishop of Canterbury"), None if the run has no title."""
    heads = [i for i, t in enumerate(tokens) if t in lex.words["title"]]
    if not heads:
        return None
    i = heads[-1] + 1
    while i < len(tokens) and (tokens[i] in lex.words["title_follow"] or tokens[i] == "of"):
        i += 2 if tokens[i] == "of" else 1
    return tokens[i:]


def _gazetteer_parts(tokens: list[str], lex: _Lexicon) -> list[Mention]:
    """Known places and organisations inside a run, longest first, and other single words
    left for the article to type."""
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_GAZETTEER_WORDS, len(tokens) - i), 0, -1):
            name = " ".join(tokens[i:i + size])
            kind = _gazetteer_kind(name, lex)
            if kind:
                found.append(Mention(name, kind))
                i += size
                break
        else:
            word = tokens[i]
            if word not in lex.words["stop"] and word not in lex.words["demonym"] and word not in _CONNECTORS:
                found.append(Mention(word, None, acronym=word in lex.orgs and word.isupper()))
            i += 1
    return found


def _single(word: str, prev: str, lex: _Lexicon) -> list[Mention]:
    """Type one capitalised word on its own."""
    if len(word) < 2 or word in lex.words["demonym"] or word in lex.words["stop"]:
        return []
    parts = word.split("-")
    if len(parts) > 1 and all(p in lex.places for p in parts):
        return [Mention(p, PLACE) for p in parts]
    if word in lex.words["not_acronym"]:
        return []
    if not word[1:].islower():
        return [Mention(word, ORG, acronym=True)] if _ACRONYM.fullmatch(word) else []
    if prev in lex.words["person_cue"]:
        return [Mention(word, None, hint=PERSON)]
    return [Mention(word, None, hint=PLACE if prev in lex.words["place_cue"] else None)]


def _classify(tokens: list[str], prev: str, lex: _Lexicon, headline: bool) -> list[Mention]:
    """Type one capitalised run (possessives already split off)."""
    if len(tokens) == 1:
        return _classify_word(tokens[0], prev, lex, headline)
    for candidate in (tokens, _strip_ends(tokens, lex)):
        name = " ".join(candidate)
        kind = _gazetteer_kind(name, lex)
        if kind:
            return [Mention(name, kind, acronym=kind == ORG and name.isupper())]
    tokens = _strip_ends(tokens, lex)
    if not tokens:
        return []
    name = " ".join(tokens)
    if headline:
        return _gazetteer_parts(tokens, lex)
    if len(tokens) == 1:
        return _single(tokens[0], prev, lex)
    if all(len(t) == 1 or t in _SPLITTERS for t in tokens):
        return [Mention("".join(t for t in tokens if t not in _SPLITTERS), ORG, acronym=True)]
    if tokens[-1] in lex.words["org_last"] or (tokens[0] in lex.words["org_first"] and "of" in tokens):
        joint = [i for i, t in enumerate(tokens) if t in _SPLITTERS]
        if joint and 1 < joint[0] < len(tokens) - 2:  # "Institute of X and Acme Holdings Inc"
            return _split_run(tokens, prev, lex)
        return [Mention(name, ORG)]
    heads = [i for i, t in enumerate(tokens) if t in lex.words["title"]]
    if heads:
        return _titled(tokens, heads[0], lex)
    if any(t in _SPLITTERS for t in tokens):
        return _split_run(tokens, prev, lex)
    if tokens[-1] in lex.words["demonym"] or tokens[-1] in lex.words["not_name_last"]:
        return []
    if prev in lex.words["org_cue"]:
        return [Mention(name, ORG)]
    if prev in lex.words["person_cue"] or tokens[0] in lex.given:
        return [Mention(name, PERSON)]
    if tokens[0] in lex.words["demonym"]:
        return _classify(tokens[1:], "", lex, headline)
    if tokens[0] in lex.words["place_first"] or tokens[-1] in lex.words["place_last"]:
        return [Mention(name, PLACE)]
    if any(t.startswith(("al-", "el-")) or t in ("bin", "ibn", "van", "von") for t in tokens):
        return [Mention(name, PERSON)]
    parts = _gazetteer_parts(tokens, lex)
    person_like = len(tokens) <= 3 and not any(t.lower() in lex.common for t in tokens)
    return [Mention(name, None, hint=PERSON if person_like else ORG,
                    parts=tuple(parts) if any(m.kind for m in parts) else ())]


def _classify_word(word: str, prev: str, lex: _Lexicon, headline: bool) -> list[Mention]:
    """`_classify` of a run of one word (most are), in fewer steps."""
    kind = _gazetteer_kind(word, lex)
    if kind:
        return [Mention(word, kind, acronym=kind == ORG and word.isupper())]
    if word in lex.words["stop"] or word in _CONNECTORS or word.isdigit():
        return []
    return _gazetteer_parts([word], lex) if headline else _single(word, prev, lex)


def _titled(tokens: list[str], head: int, lex: _Lexicon) -> list[Mention]:
    """A run with a title in it: the known names before the title, and the person after it."""
    before = tokens[:head]
    if before and (before[-1] in lex.words["org_last"] or _gazetteer_kind(" ".join(before), lex)):
        return _classify(before, "", lex, False) + _classify(tokens[head:], "", lex, False)
    found = [m for m in _gazetteer_parts(before, lex) if m.kind]
    rest = _after_title(tokens, lex)
    if rest and not _gazetteer_kind(" ".join(rest), lex):
        found.append(Mention(" ".join(rest), PERSON))
    return found


def _split_run(tokens: list[str], prev: str, lex: _Lexicon) -> list[Mention]:
    """Type the parts of a run joined by "and" or "&" one by one."""
    found: list[Mention] = []
    part: list[str] = []
    for token in tokens + ["and"]:
        if token in _SPLITTERS:
            found.extend(_classify(part, prev, lex, False))
            part, prev = [], ""
        else:
            part.append(token)
    return found


def paragraph_mentions(text: str) -> list[Mention]:
    """Every name mention in one paragraph, typed where the paragraph alone can tell."""
    lex = _lexicon()
    found, text = _dateline(clean_text(text))
    headline = _is_headline(text, lex)
    for match in _SPAN.finditer(text):
        if match.group(0) in lex.nothing_alone:  # most often a sentence's first word
            continue
        start = match.start()
        prev = ""
        if start and text[start - 1] == " ":  # the word before counts only when a space parts them
            before = _PREV_WORD.search(text, max(0, start - 30), start)
            prev = before.group(1) if before else ""
        found.extend(_span_mentions(match.group(0), prev, headline))
    return found


@lru_cache(maxsize=SPAN_CACHE)
def _span_mentions(span: str, prev: str, headline: bool) -> tuple[Mention, ...]:
    """The mentions in one run of capitalised words (after the word `prev`); remembered, as
    the same names come back paragraph after paragraph."""
    lex = _lexicon()
    found: list[Mention] = []
    run: list[str] = []
    for token in span.split():
        stem, _, suffix = token.rpartition("-")
        if stem and suffix.islower():  # "Milwaukee-based Marine Corp"
            found.extend(_classify(run + [stem], prev, lex, headline))
            run, prev = [], ""
        elif token.endswith(_POSSESSIVE_ENDS) and token not in lex.keep_possessive:
            found.extend(_classify(run + [token[:-2]], prev, lex, headline))
            run, prev = [], ""
        else:
            run.append(token)
    found.extend(_classify(run, prev, lex, headline))
    return tuple(found)


def normalise_mention(text: str, kind: str) -> Mention | None:
    """A name found by another extractor, cleaned like ours: no leading "the", possessive
    or title; None if nothing is left."""
    lex = _lexicon()
    tokens = [_POSSESSIVE.sub("", t) for t in text.split()]
    if tokens and tokens[0] in ("the", "The"):
        tokens = tokens[1:]
    if kind == PERSON:
        rest = _after_title(tokens, lex)
        tokens = tokens if rest is None else rest
    if not tokens or (len(tokens) == 1 and tokens[0] in lex.words["demonym"]):
        return None
    name = " ".join(tokens)
    return Mention(name, kind, acronym=kind == ORG and bool(_ACRONYM.fullmatch(name)))


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w not in _CONNECTORS and w[0].isupper())


def _surname_keys(name: str) -> list[str]:
    last = name.split()[-1]
    return [last, last[3:]] if last.startswith(("al-", "el-")) else [last]


class _ArticleIndex:
    """Full names of an article, by the short forms that may stand for them."""

    def __init__(self, mentions: Iterable[Mention], lex: _Lexicon) -> None:
        self.people: dict[str, str] = {}
        self.orgs: dict[str, str] = {}
        self.acronyms: dict[str, str] = {}
        generic = lex.generic
        for m in mentions:
            words = m.text.split()
            if m.kind == PERSON and len(words) > 1:
                for key in _surname_keys(m.text):
                    self.people.setdefault(key, m.text)
                self.people.setdefault(f"{words[0]} {words[-1]}", m.text)
            elif m.kind == ORG and len(words) > 1:
                self.acronyms.setdefault(_initials(m.text), m.text)
                if words[-1] in lex.words["org_last"]:
                    self.acronyms.setdefault(_initials(" ".join(words[:-1])), m.text)
                for size in (1, 2):
                    prefix = " ".join(words[:size])
                    if size < len(words) and prefix not in generic:
                        self.orgs.setdefault(prefix, m.text)

    def resolve(self, m: Mention) -> list[Mention]:
        """The full forms a mention stands for; [] for a word nothing types."""
        if m.acronym:
            letters = m.text.replace("&", "").replace(".", "")
            return [Mention(self.acronyms.get(letters, m.text), ORG)]
        if m.kind in (None, PERSON) and m.text in self.people:
            return [Mention(self.people[m.text], PERSON)]
        if m.kind is None and m.text in self.orgs:
            return [Mention(self.orgs[m.text], ORG)]
        if m.kind is None:
            return [r for p in m.parts for r in self.resolve(p)] or [Mention(m.text, m.hint)]
        return [m]


def merge_mentions(per_paragraph: Sequence[Sequence[Mention]]) -> list[Entities]:
    """One Entities per paragraph, short forms replaced by the article's full forms."""
    index = _ArticleIndex((m for ms in per_paragraph for m in ms), _lexicon())
    result = []
    for mentions in per_paragraph:
        kinds: dict[str, set[str]] = {PERSON: set(), PLACE: set(), ORG: set()}
        for mention in mentions:
            for full in index.resolve(mention):
                if full.kind:
                    kinds[full.kind].add(full.text)
        result.append(Entities(tuple(sorted(kinds[PERSON])), tuple(sorted(kinds[PLACE])),
                               tuple(sorted(kinds[ORG]))))
    return result


def extract_article_entities(title: str, paragraphs: Sequence[str], *,
                             extractor: str = "rules") -> list[Entities]:
    """One Entities per paragraph (same order and length), names merged across the article
    (short form -> full form, titles stripped), each tuple sorted and de-duplicated.
    The title is not a paragraph: headlines are title case or capitals, so it gives no names."""
    if extractor == "spacy":
        from .entities_spacy import spacy_mentions

        return merge_mentions(spacy_mentions(paragraphs))
    if extractor != "rules":
        raise ValueError(f"unknown entity extractor {extractor!r}")
    return merge_mentions([paragraph_mentions(p) for p in paragraphs])
