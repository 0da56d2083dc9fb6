"""One facet value per person, place and organisation across the archive.

Within an article a short form already joins the full form the article gives
(`merge`). Across the archive, `EntityNames` counts the articles each value
appears in, per source ("BBC News", "Reuters"): cheap, picklable and mergeable,
one per indexing process. `EntityNames.canonicalizer` turns the counts and the
alias groups into a `Canonicalizer`, which gives every variant its canonical
name. A short form left in an article ("Reagan", "OPEC", "Labour", "Liberal
Democrat") takes the full name known for it ("Ronald Reagan", "Organization
of Petroleum Exporting Countries", "Labour Party", "Liberal Democrats") when
one full name holds DOMINANT_SHARE of the articles of all full names it may
stand for, and is not much rarer than the short form itself (MIN_SUPPORT).
A name an article could not type ("Radiohead" without "band" before it)
takes the type it has elsewhere (MIN_TYPED, TYPE_SHARE).
The article's own source decides ("Goldsmith" is Peter Goldsmith at the BBC,
James Goldsmith at Reuters); for a source without any full name for it the
whole archive decides, but only a company's own name with a legal ending
("Texaco" -> "Texaco Inc"): a surname or acronym means different things in
different sources (Lord Hutton at the BBC, E.F. Hutton at Reuters). Alias
groups always decide by themselves.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from .aliases import follow
from .lexicon import CONNECTORS, lexicon
from .merge import Entities, initials, surname_keys

log = logging.getLogger(__name__)

FACETS = ("people", "places", "organisations")
UNTYPED = "untyped"
FORMAT = 1
MIN_TYPED = 2  # articles where a name is typed, for its untyped mentions to take that type
TYPE_SHARE = 0.75  # of those articles, for the type taken
TYPED_PER_UNTYPED = 0.2  # those articles per article where it is untyped: not "Oscar", a person in 5 of 74
DOMINANT_SHARE = 0.8  # of the candidates' articles, for the full name a short form takes
MIN_SUPPORT = 0.05  # its articles per article of the short form ("Reagan": 344 articles, "Ronald Reagan" 21)
MIN_ACRONYM_SUPPORT = 0.25  # the same for an acronym, which many names may share: not "NBC" for one article's
                            # "Norwegian Broadcasting Corporation"
# Endings that leave an organisation's own name: "Texaco" for "Texaco Inc", "Labour" for "Labour Party"
# (not "News" or "City": "BBC" is not "BBC News", nor "Manchester" "Manchester City").
LEGAL_ENDS = frozenset("Inc Inc. Corp Corp. Corporation Co Co. Cos Ltd Ltd. Limited plc PLC Plc LLC LP AB AG SA "
                       "NV BV SpA GmbH Holdings Holding Group Bancorp Party".split())
# Plural endings of a party's name whose singular names a member: "Liberal Democrat(s)", "Young Conservative(s)".
PARTY_PLURALS = ("ats", "ans", "ists", "ives", "ens")

T = TypeVar("T")
Tables = dict[str, dict[str, str]]  # facet -> variant -> canonical


class EntityNames:
    """Articles per facet value and source, collected article by article; `update` merges another's."""

    def __init__(self) -> None:
        self.articles: dict[str, dict[str, Counter[str]]] = {}  # source -> facet -> name -> articles

    def add_article(self, paragraphs: Iterable[Any], source: str | None = None) -> None:
        """Count one article: its paragraphs' `Entities`, or its `Paragraph`s (which carry the same
        fields, and the article's source when `source` is None)."""
        paragraphs = list(paragraphs)
        if source is None:
            source = getattr(paragraphs[0], "source", "") if paragraphs else ""
        counts = self._counts(source)
        for key in (*FACETS, UNTYPED):
            counts[key].update({name for p in paragraphs for name in getattr(p, key, ())})

    def _counts(self, source: str) -> dict[str, Counter[str]]:
        if source not in self.articles:
            self.articles[source] = {key: Counter() for key in (*FACETS, UNTYPED)}
        return self.articles[source]

    def update(self, other: EntityNames) -> None:
        for source, facets in other.articles.items():
            counts = self._counts(source)
            for key in (*FACETS, UNTYPED):
                counts[key].update(facets[key])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EntityNames) and self.articles == other.articles

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "sources": {s: {k: dict(v) for k, v in c.items()} for s, c in self.articles.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntityNames:
        _check_format(data, "entity names")
        names = cls()
        for source, facets in data["sources"].items():
            counts = names._counts(source)
            for key in (*FACETS, UNTYPED):
                counts[key].update(facets[key])
        return names

    def canonicalizer(self, aliases: Mapping[str, str] | None = None) -> Canonicalizer:
        """The canonical name of every variant, from these counts and `aliases` (see `load_aliases`)."""
        aliases = dict(aliases or {})
        whole: dict[str, Counter[str]] = {key: Counter() for key in (*FACETS, UNTYPED)}
        for facets in self.articles.values():
            for key in whole:
                whole[key].update(facets[key])
        default: Tables = {}
        for facet in FACETS:  # across sources only a company's name with its legal ending decides
            short, _ = ({}, {}) if facet == "people" else _short_forms(facet, _aliased(whole[facet], aliases), aliases,
                                                                       acronyms=False)
            default[facet] = _table(whole[facet].keys() | aliases.keys(), aliases, short, {})
        default_types = _types(whole, aliases, default)
        sources: dict[str, Tables] = {}
        source_types: dict[str, dict[str, str]] = {}
        for source, facets in self.articles.items():
            sources[source] = {}
            for facet in FACETS:
                short, blocked = _short_forms(facet, _aliased(facets[facet], aliases), aliases)
                sources[source][facet] = _table(facets[facet].keys(), aliases,
                                                {**default[facet], **short, **blocked}, default[facet])
            here = {f: {**default[f], **sources[source][f]} for f in FACETS}
            source_types[source] = {n: t for n, t in _types(facets, aliases, here).items()
                                    if t != default_types.get(n)}
        canonicalizer = Canonicalizer(default, sources, default_types, source_types)
        log.info("entities: canonical names for %s", ", ".join(
            f"{len(default[f]) + sum(len(s[f]) for s in sources.values())} {f}" for f in FACETS))
        return canonicalizer


def _check_format(data: Mapping[str, Any], what: str) -> None:
    if data.get("format") != FORMAT:
        raise ValueError(f"{what} of format {data.get('format')!r}, not {FORMAT}: rebuild the index")


def _aliased(counts: Counter[str], aliases: Mapping[str, str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for name, n in counts.items():
        found[aliases.get(name, name)] += n
    return found


def _types(counts: Mapping[str, Counter[str]], aliases: Mapping[str, str], tables: Tables) -> dict[str, str]:
    """Untyped name -> the facet it takes ("" where the typed mentions disagree), for the untyped
    names typed somewhere in `counts`: as itself, or as what it stands for ("Reagan")."""
    aliased = {f: _aliased(counts[f], aliases) for f in FACETS}
    lex = lexicon()
    found = {}
    for name in counts[UNTYPED]:
        if name.lower() in lex.common or name in lex.titles or name in lex.words["stop"]:
            continue  # "New", "People", "Chancellor": words, whatever an article once took them for
        plain = aliases.get(name, name)
        scores = {f: aliased[f][plain] + (aliased[f][c] if (c := tables[f].get(name, plain)) != plain else 0)
                  for f in FACETS}
        total = sum(scores.values())
        if total >= TYPED_PER_UNTYPED * counts[UNTYPED][name]:
            facet = max(FACETS, key=scores.__getitem__)
            found[name] = facet if scores[facet] >= MIN_TYPED and scores[facet] >= TYPE_SHARE * total else ""
    return found


def _table(names: Iterable[str], aliases: Mapping[str, str], short: Mapping[str, str],
           base: Mapping[str, str]) -> dict[str, str]:
    """name -> canonical name, for the names whose canonical name is not `base`'s (or themselves)."""
    table = {}
    for name in names:
        canonical = aliases.get(name) or follow(short, name)
        if canonical != base.get(name, name):
            table[name] = canonical
    return table


def _short_forms(facet: str, counts: Counter[str], aliases: Mapping[str, str],
                 acronyms: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """(short form -> the full name it stands for, where one dominates; short form -> itself, where
    full names compete). Acronyms only if `acronyms`: across sources they mean different things
    ("NME": New Musical Express at the BBC, National Medical Enterprises at Reuters)."""
    keys = _person_keys if facet == "people" else _organisation_keys if facet == "organisations" else None
    if keys is None:
        return {}, {}
    lex = lexicon()
    candidates: dict[str, Counter[str]] = defaultdict(Counter)
    short, blocked = {}, {}
    for name, n in counts.items():
        if facet == "organisations" and name not in aliases and (known := _known_core(name, lex)):
            short[name] = known  # "Chrysler Corp" -> Chrysler, as the gazetteer shows it
            continue
        for key in keys(name):
            if key in counts and key != name and len(key) < len(name):
                candidates[key][name] += n
    for key, full in candidates.items():
        if (key in aliases or key in short or key in lex.orgs or key in lex.given
                or all(w.lower() in lex.common for w in key.split())):
            continue  # alias groups and gazetteer names decide themselves; "Charles", "National Bank" are no names
        best, n = full.most_common(1)[0]
        acronym = key.isupper() and " " not in key
        if acronym and not acronyms:
            continue
        support = MIN_ACRONYM_SUPPORT if acronym else MIN_SUPPORT
        if n >= DOMINANT_SHARE * sum(full.values()) and n >= support * counts[key]:
            short[key] = best
        else:
            blocked[key] = key
    return short, blocked


def _known_core(name: str, lex: Any) -> str | None:
    """The gazetteer organisation a name is with legal endings only ("Volkswagen AG"), if any."""
    words = name.split()
    core = list(words)
    while len(core) > 1 and core[-1] in LEGAL_ENDS and core[-1] != "Party":
        core.pop()
    joined = " ".join(core)
    return joined if len(core) < len(words) and joined in lex.orgs else None


def _person_keys(name: str) -> list[str]:
    """"Ronald Reagan" -> Reagan. Not "George Bush" for "George W Bush": across an archive that may
    be his father. None for runs that are no one name ("Paul Volcker and Japanese")."""
    words = name.split()
    if len(words) < 2 or "and" in words or "&" in words or not words[-1][:1].isupper() or len(words[-1]) < 3:
        return []
    return surname_keys(name)


def _organisation_keys(name: str) -> list[str]:
    """"Organization of Petroleum Exporting Countries" -> OPEC; "Labour Party" -> Labour;
    "Texaco Inc" -> Texaco; "Liberal Democrats" -> Liberal Democrat; "IBM Corp" -> IBM."""
    words = name.split()
    if len(words) < 2:
        return []
    keys = {words[0]} if words[0].isupper() and len(words[0]) > 1 else set()  # "AFG" of "AFG Industries Inc"
    core = list(words)
    while len(core) > 1 and (core[-1] in LEGAL_ENDS or core[-1] in CONNECTORS):
        core.pop()
        if core[-1] not in CONNECTORS:
            keys.add(" ".join(core))  # "Acme Holdings" and "Acme" of "Acme Holdings Ltd"
    keys.update(k for k in (initials(name), initials(" ".join(core))) if len(k) >= 2)
    if words[-1].endswith(PARTY_PLURALS):
        keys.add(" ".join(words[:-1] + [words[-1][:-1]]))
    return sorted(keys)


@dataclass(frozen=True)
class Canonicalizer:
    """The facet value of every variant: `default[facet][variant]`, and per source the names whose
    value differs there (`sources[source][facet][variant]`). Names absent show as themselves.
    `apply` gives an `Entities` or `Paragraph` canonical values."""

    default: Tables = field(default_factory=lambda: {f: {} for f in FACETS})
    sources: dict[str, Tables] = field(default_factory=dict)
    default_types: dict[str, str] = field(default_factory=dict)  # untyped name -> facet ("" for none)
    source_types: dict[str, dict[str, str]] = field(default_factory=dict)

    def canonical(self, facet: str, name: str, source: str = "") -> str:
        here = self.sources.get(source)
        if here is not None and name in here[facet]:
            return here[facet][name]
        return self.default[facet].get(name, name)

    def type_of(self, name: str, source: str = "") -> str:
        """The facet an untyped name takes in `source` ("" for none)."""
        here = self.source_types.get(source)
        if here is not None and name in here:
            return here[name]
        return self.default_types.get(name, "")

    def values(self, facet: str, names: Iterable[str], source: str = "") -> tuple[str, ...]:
        """Canonical, sorted and de-duplicated."""
        if not names:
            return ()
        here = self.sources[source][facet] if source in self.sources else {}
        default = self.default[facet]
        return tuple(sorted({here[n] if n in here else default.get(n, n) for n in names}))

    def apply(self, record: T, source: str | None = None) -> T:
        """A copy of an `Entities` or `Paragraph` with canonical people, places and organisations (of
        `source`, by default the record's own)."""
        source = getattr(record, "source", "") if source is None else source
        names = {f: getattr(record, f) for f in FACETS}
        untyped = getattr(record, UNTYPED, ())
        if untyped:
            names = {f: list(names[f]) for f in FACETS}
            left = []
            for name in untyped:
                facet = self.type_of(name, source)
                (names[facet] if facet else left).append(name)
            untyped = tuple(left)
        people, places, organisations = (self.values(f, names[f], source) for f in FACETS)
        if type(record) is Entities:  # the common case, without `replace`'s field-by-field copy
            return Entities(people, places, organisations, untyped)  # type: ignore[return-value]
        fields = {"people": people, "places": places, "organisations": organisations}
        if hasattr(record, UNTYPED):
            fields[UNTYPED] = untyped
        return replace(record, **fields)

    def variants(self, facet: str, canonical: str) -> list[str]:
        """Every name that shows as `canonical` in some source (itself included), for a facet read at
        search time."""
        tables = [self.default[facet], *(s[facet] for s in self.sources.values())]
        return sorted({canonical} | {v for table in tables for v, c in table.items() if c == canonical})

    def changes(self, old: Canonicalizer) -> dict[str, set[str]]:
        """Per facet, the names whose value differs from `old`'s in some source. After an update,
        documents that `old` gave those names' old values are the ones to re-index."""
        found: dict[str, set[str]] = {}
        for facet in FACETS:
            found[facet] = set()
            for source in {"", *self.sources, *old.sources}:
                names = {*self._names(facet, source), *old._names(facet, source)}
                found[facet] |= {n for n in names
                                 if self.canonical(facet, n, source) != old.canonical(facet, n, source)}
        return found

    def _names(self, facet: str, source: str) -> set[str]:
        return {*self.default[facet], *self.sources.get(source, {}).get(facet, {})}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "default": self.default, "sources": self.sources,
                "default_types": self.default_types, "source_types": self.source_types}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Canonicalizer:
        _check_format(data, "canonical names")
        return cls({f: dict(data["default"][f]) for f in FACETS},
                   {s: {f: dict(t[f]) for f in FACETS} for s, t in data["sources"].items()},
                   dict(data["default_types"]), {s: dict(t) for s, t in data["source_types"].items()})

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
