"""The default extractor: runs of capitalised words, found by one regex and typed with word lists.

A run is typed by the bundled gazetteers and word lists (see `lexicon`) and by
the lower-case word right before it ("group X", "spokesman X", "base in X").
Text in capitals (wire headlines and tables, the TIME archive) cannot tell a
name from a word, so there only gazetteer names count and ordinary words never.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexicon import CONNECTOR, CONNECTORS, ORG, PERSON, PLACE, POSSESSIVE_ENDS, Lexicon, after_title, lexicon
from .merge import Mention

_ABBREVIATIONS = frozenset("Mr Mrs Ms Dr St Gen Sen Rep Gov Lt Col Sgt Capt Prof Rev".split())
_ABBREVIATION_TAILS = "|".join(sorted({a[1:] for a in _ABBREVIATIONS}, key=len, reverse=True))
# One capitalised word. It starts with a character class, so that the regex engine skips to the next
# capital at C speed (an alternation first made the scan four times slower): "U.S.", "Mr." or an
# initial before a name ("George W. Bush"), or a word with inner hyphens, apostrophes or "&".
_CAP_WORD = (rf"[A-Z](?:(?:\.[A-Z])+\.|(?:{_ABBREVIATION_TAILS})?\.(?= [A-Z])"
             r"|[A-Za-z0-9]*(?:[-&'’][A-Za-z0-9]+)*)")
_SPAN = re.compile(rf"{_CAP_WORD}(?:(?: +{CONNECTOR})? +(?:(?:al-|el-)?{_CAP_WORD}|\d+\b))*")
_SPLITTERS = frozenset({"and", "&"})
SPAN_CACHE = 50_000  # runs of capitalised words whose mentions are remembered
_ACRONYM = re.compile(r"(?:[A-Z]&?){2,6}|(?:[A-Z]\.){2,}")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
_LOWER_AFTER_SPACE = re.compile(r" [a-z]")
_HEADLINE_PROBE = 100  # characters: a title-case line has few lower-case words in its first ones
_PREV_CHARS = 30
_PUNCTUATION = "\"'“”‘’(),;:-"
_TAG = re.compile(r"</?[a-z][a-z0-9]*\s*/?>")
_TICKER = re.compile(r"<[A-Z0-9.]+>")
_ABBREV_DOT = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Prof|Rev)\.")
_INITIAL_DOT = re.compile(r"(?<= )([A-Z])\. (?=[A-Z][a-z])")
_DATELINE = re.compile(
    r"^\W{0,4}([A-Z][A-Z.' -]{1,30}?)(?:, ([A-Z][A-Za-z.]{1,12}(?: [A-Z][A-Za-z.]{1,12}){0,2}))?, "
    r"(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2} - ")
_STATES = {
    "ALA.": "Alabama", "ARIZ.": "Arizona", "CALIF.": "California", "COLO.": "Colorado",
    "CONN.": "Connecticut", "DEL.": "Delaware", "FLA.": "Florida", "GA.": "Georgia",
    "ILL.": "Illinois", "IND.": "Indiana", "KAN.": "Kansas", "KY.": "Kentucky",
    "LA.": "Louisiana", "MASS.": "Massachusetts", "MD.": "Maryland", "MICH.": "Michigan",
    "MINN.": "Minnesota", "MO.": "Missouri", "N.C.": "North Carolina", "N.J.": "New Jersey",
    "N.Y.": "New York", "NEB.": "Nebraska", "OKLA.": "Oklahoma", "ORE.": "Oregon",
    "PA.": "Pennsylvania", "TENN.": "Tennessee", "TEXAS.": "Texas", "VA.": "Virginia",
    "WASH.": "Washington", "WIS.": "Wisconsin", "ONT.": "Ontario", "B.C.": "British Columbia",
}
_MAX_GAZETTEER_WORDS = 4
_PREFIXES = ("Non-", "Anti-", "Pro-", "Ex-", "Post-", "Pre-", "Mid-", "Trans-")
_COURTESY = frozenset("Mr Mrs Ms Miss Dr Sir Dame Lord Lady".split())
# Stop words that begin organisations' names too: "First Western Financial Corp", "Islamic Development Bank".
_NAME_STOP_WORDS = frozenset("First Second Western Eastern Northern Southern Christian Islamic Arab Catholic "
                             "Protestant Jewish Muslim Communist Budget".split())
_MULTI_WORD_PLACE_CUES = frozenset({"in", "near"})
PLAIN, HEADLINE, CAPITALS = 0, 1, 2  # how a paragraph is written


def clean_text(text: str) -> str:
    """Markup, ticker symbols and abbreviation dots removed, so that names read as plain runs
    (for other recognisers; the rules read abbreviation dots themselves)."""
    return _INITIAL_DOT.sub(r"\1 ", _ABBREV_DOT.sub(r"\1", _without_markup(text)))


def _without_markup(text: str) -> str:
    if "<" in text or ">" in text:
        text = _TICKER.sub("", _TAG.sub("", text)).replace("<", "").replace(">", "")
    return text


def _is_headline(text: str, lex: Lexicon) -> bool:
    """True for title-case lines ("Related article: Syria Could Let Russia Keep ..."):
    most of their common English words are capitalised."""
    if len(_LOWER_AFTER_SPACE.findall(text, 0, _HEADLINE_PROBE)) > 3:  # prose: the cheap answer
        return False
    common = [w for w in _LONG_WORD.findall(text) if w.lower() in lex.common and w not in lex.titles]
    return len(common) >= 3 and len([w for w in common if w[0].isupper()]) / len(common) > 0.7


def _dateline(text: str, lex: Lexicon) -> tuple[list[Mention], str]:
    """Places of a wire dateline ("ELMHURST, ILL., March 20 - ", "ABUJA, Nigeria, June 16 - ")
    and the text after it."""
    match = _DATELINE.match(text)
    if not match:
        return [], text
    city = " ".join(w.capitalize() for w in match.group(1).split())
    found = [Mention(city, PLACE)]
    region = (match.group(2) or "").removeprefix("The ")
    region = _STATES.get(region.upper()) or _STATES.get(region.upper() + ".") or region
    if region in lex.places or region in _STATES.values():
        found.append(Mention(region, PLACE))
    return found, text[match.end():]


def paragraph_mentions(text: str) -> list[Mention]:
    """Every name mention in one paragraph, typed where the paragraph alone can tell."""
    lex = lexicon()
    found, text = _dateline(_without_markup(text), lex)
    style = CAPITALS if text.isupper() else HEADLINE if _is_headline(text, lex) else PLAIN
    cues, nothing_alone, plain, cache = lex.cues, lex.nothing_alone, style == PLAIN, _PLAIN_SPANS
    for match in _SPAN.finditer(text):
        span = match.group()
        if span in nothing_alone:  # most often a sentence's first word
            continue
        start = match.start()
        prev = ""
        if start > 1 and text[start - 1] == " " and style != CAPITALS:  # a cue counts only when a space parts them
            word = text[text.rfind(" ", max(0, start - _PREV_CHARS), start - 1) + 1:start - 1].strip(_PUNCTUATION)
            word = word[word.rfind("-") + 1:]  # "co-chairman"
            if word in cues:
                prev = word
        if plain and not prev:  # most runs: a plain dict is cheaper than the LRU cache
            mentions = cache.get(span)
            if mentions is None:
                if len(cache) >= SPAN_CACHE:
                    cache.clear()
                mentions = cache[span] = _span_mentions(span, "", PLAIN)
        else:
            mentions = _span_mentions(span, prev, style)
        if mentions:
            found.extend(mentions)
    return found


_PLAIN_SPANS: dict[str, tuple[Mention, ...]] = {}  # runs of plain text after no cue word -> their mentions


@lru_cache(maxsize=SPAN_CACHE)
def _span_mentions(span: str, prev: str, style: int) -> tuple[Mention, ...]:
    """The mentions in one run of capitalised words (after the cue word `prev`); remembered, as
    the same names come back paragraph after paragraph."""
    lex = lexicon()
    if " " not in span and style == PLAIN and not span.isupper() and "-" not in span and "'" not in span \
            and "’" not in span and span[-1] != ".":  # one plain word, most runs: `_classify_word` alone
        return tuple(_classify_word(span, prev, lex, False))
    tokens = [t[:-1] if t[-1] == "." and (len(t) == 2 or t[:-1] in _ABBREVIATIONS) else t for t in span.split()]
    if style == CAPITALS or span.isupper():
        return tuple(_capitals(tokens, lex, strict=style == CAPITALS))
    if tokens[0].startswith(_PREFIXES) and tokens[0][tokens[0].index("-") + 1:][:1].isupper():
        tokens[0] = tokens[0][tokens[0].index("-") + 1:]  # "Non-European Union" names the EU
    headline = style == HEADLINE
    found: list[Mention] = []
    run: list[str] = []
    for token in tokens:
        stem, _, suffix = token.rpartition("-")
        if stem and suffix.islower() and suffix in lex.common:  # "Milwaukee-based Marine Corp", not "Dai-ichi"
            found.extend(_classify(run + [stem], prev, lex, headline))
            run, prev = [], ""
        elif token.endswith(POSSESSIVE_ENDS) and token not in lex.keep_possessive:
            found.extend(_classify(run + [token[:-2]], prev, lex, headline))
            run, prev = [], ""
        else:
            run.append(token)
    found.extend(_classify(run, prev, lex, headline))
    return tuple(found)


def _capitals(tokens: list[str], lex: Lexicon, strict: bool) -> list[Mention]:
    """Names in a run of capitals ("NEW YORK", "OPEC", "NOTE"): gazetteer names, longest first,
    in their usual spelling, and acronyms that are no ordinary word. `strict` for a paragraph all
    in capitals, where "US" and "WHO" are words too."""
    tokens = [t[:-2] if t.endswith(("'S", "’S")) else t for t in tokens]
    if not strict and len(tokens) > 1 and tokens[-1] in lex.words["org_last"]:  # "VEBA AG", "ICI PLC"
        return [Mention(" ".join(tokens), ORG)]
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_GAZETTEER_WORDS, len(tokens) - i), 1, -1):
            name = " ".join(tokens[i:i + size])
            known = _capitals_kind(name, lex)
            if known:
                found.append(known)
                i += size
                break
        else:
            found.extend(_capital_word(tokens[i], lex, strict))
            i += 1
    return found


def _capitals_kind(name: str, lex: Lexicon) -> Mention | None:
    """A gazetteer name in capitals, as the gazetteer spells it ("NEW YORK" -> New York)."""
    if name in lex.titled_places:
        return Mention(lex.titled_places[name], PLACE)
    if name in lex.titled_orgs:
        return Mention(lex.titled_orgs[name], ORG)
    return None


def _capital_word(word: str, lex: Lexicon, strict: bool) -> list[Mention]:
    """One word in capitals: a known name ("US", "PARIS"), an acronym ("LDP") or nothing ("NOTE")."""
    if word in lex.words["wire"] or (strict and word in lex.caps_words):
        return []
    kind = _gazetteer_kind(word, lex)
    if kind:
        return [Mention(word, kind, acronym=kind == ORG)]
    if word in lex.caps_words or word in lex.words["not_acronym"]:
        return []
    known = _capitals_kind(word, lex)
    if known and (known.kind == PLACE or not strict):  # in all capitals "SUN" and "SHELL" are words too
        return [known]
    return [Mention(word, ORG, acronym=True)] if not strict and _ACRONYM.fullmatch(word) else []


def _gazetteer_kind(name: str, lex: Lexicon) -> str | None:
    if name in lex.places:
        return PLACE
    return ORG if name in lex.orgs else None


def _strip_ends(tokens: list[str], lex: Lexicon) -> list[str]:
    """Drop stop words, connectors and numbers from both ends of a run."""
    stop = lex.words["stop"]
    while tokens and (tokens[0] in stop or tokens[0] in CONNECTORS or tokens[0].isdigit()):
        tokens = tokens[1:]
    while tokens and (tokens[-1] in stop or tokens[-1] in CONNECTORS or tokens[-1].isdigit()):
        tokens = tokens[:-1]
    return tokens


def _gazetteer_parts(tokens: list[str], lex: Lexicon) -> list[Mention]:
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
            if word not in lex.words["stop"] and word not in lex.words["demonym"] and word not in CONNECTORS:
                found.append(Mention(word, None, acronym=word in lex.orgs and word.isupper()))
            i += 1
    return found


def _single(word: str, prev: str, lex: Lexicon) -> list[Mention]:
    """Type one capitalised word on its own."""
    if len(word) < 2 or word in lex.words["demonym"] or word in lex.words["stop"]:
        return []
    parts = word.split("-")
    if len(parts) > 1 and all(p in lex.places for p in parts):
        return [Mention(p, PLACE) for p in parts]
    if word.isupper():
        return _capital_word(word, lex, strict=False)
    if word in lex.words["not_acronym"]:  # "MPs", "CDs"
        return []
    if prev in lex.words["org_cue"]:  # "group Vestey"
        return [Mention(word, ORG)]
    if prev in lex.words["person_cue"]:
        return [Mention(word, None, hint=PERSON)]
    return [Mention(word, None, hint=PLACE if prev in lex.words["place_cue"] else None)]


def _classify(tokens: list[str], prev: str, lex: Lexicon, headline: bool) -> list[Mention]:
    """Type one capitalised run (possessives already split off)."""
    if len(tokens) == 1:
        return _classify_word(tokens[0], prev, lex, headline)
    if "for" in tokens and tokens[0] not in lex.words["org_first"]:  # "for" joins "Commission for Africa" only
        cut = tokens.index("for")
        return _classify(tokens[:cut], prev, lex, headline) + _classify(tokens[cut + 1:], "", lex, headline)
    org_named = bool(tokens) and tokens[-1] in lex.words["org_last"] and not headline
    stripped = _strip_ends(tokens, lex)
    for candidate in (tokens, stripped):
        name = " ".join(candidate)
        kind = _gazetteer_kind(name, lex)
        if kind:
            return [Mention(name, kind, acronym=kind == ORG and name.isupper())]
    if org_named and len(stripped) > 1:  # "First Western Financial Corp" keeps its "First"
        start = len(tokens) - len(stripped)
        while start and tokens[start - 1] in _NAME_STOP_WORDS:
            start -= 1
        tokens = tokens[start:]
    else:
        tokens = stripped
    if not tokens:
        return []
    name = " ".join(tokens)
    if headline:
        return _gazetteer_parts(tokens, lex)
    if len(tokens) == 1:
        return _single(tokens[0], prev, lex)
    if all(len(t) == 1 or t in _SPLITTERS for t in tokens):
        return [Mention("".join(t for t in tokens if t not in _SPLITTERS), ORG, acronym=True)]
    org_last = lex.words["org_last"]
    org_first = tokens[0] in lex.words["org_first"] and ("of" in tokens or "for" in tokens)
    if org_first and tokens[-1] not in org_last and any(t in lex.words["title"] for t in tokens[1:]):
        org_first = False  # "Organisation of African Unity Chairman Denis Sassou-Nguesso": see `_titled`
    if tokens[-1] in org_last or org_first:
        joint = [i for i, t in enumerate(tokens) if t in _SPLITTERS]
        if joint and joint[0] > 1 and _names_after(tokens[joint[0] + 1:], lex):
            return _split_run(tokens, prev, lex)
        return [Mention(name, ORG)]
    if tokens[0] == "General" and all(t.lower() in lex.common for t in tokens[1:]):
        return [Mention(name, ORG)]  # "General Electric", not the general "Electric"
    heads = [i for i, t in enumerate(tokens) if t in lex.words["title"]]
    if heads == [len(tokens) - 1] and tokens[0] in lex.given:  # "John Major": a name, not a title
        return [Mention(name, PERSON)]
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
    if prev in _MULTI_WORD_PLACE_CUES:  # "in La Manga"
        return [Mention(name, PLACE)]
    if tokens[0] in lex.words["demonym"]:
        return _classify(tokens[1:], "", lex, headline)
    if tokens[0] in lex.words["place_first"] or tokens[-1] in lex.words["place_last"]:
        return [Mention(name, PLACE)]
    if any(t.startswith(("al-", "el-")) or t in ("bin", "ibn", "van", "von") for t in tokens):
        return [Mention(name, PERSON)]
    parts = _gazetteer_parts(tokens, lex)
    person_like = len(tokens) <= 3 and not any(t.lower() in lex.common for t in tokens)
    return [Mention(name, None, hint=PERSON if person_like else None,
                    parts=tuple(parts) if any(m.kind for m in parts) else ())]


def _names_after(after: list[str], lex: Lexicon) -> bool:
    """Whether the words after "and" in an organisation's run name one of their own: "Institute of X
    and Acme Holdings Inc", "House of Representatives and Senate"; not "American Telephone and
    Telegraph Co" or "Merrill Lynch and Co Inc"."""
    if _gazetteer_kind(" ".join(after), lex):
        return True
    return len(after) >= 3 and any(t not in lex.words["org_last"] for t in after)


def _classify_word(word: str, prev: str, lex: Lexicon, headline: bool) -> list[Mention]:
    """`_classify` of a run of one word (most are), in fewer steps."""
    kind = _gazetteer_kind(word, lex)
    if kind:
        return [Mention(word, kind, acronym=kind == ORG and word.isupper())]
    if word in lex.words["stop"] or word in CONNECTORS or word.isdigit():
        return []
    return _gazetteer_parts([word], lex) if headline else _single(word, prev, lex)


def _titled(tokens: list[str], head: int, lex: Lexicon) -> list[Mention]:
    """A run with a title in it: the known names before the title, and the person after it."""
    if len(tokens) == 2 and tokens[0] in _COURTESY:  # "Mr Major": the second title word is his name
        return [Mention(tokens[1], PERSON)]
    before = tokens[:head]
    if before and (before[-1] in lex.words["org_last"] or _gazetteer_kind(" ".join(before), lex)
                   or (before[0] in lex.words["org_first"] and "of" in before)):  # "Organisation of African Unity"
        return _classify(before, "", lex, False) + _classify(tokens[head:], "", lex, False)
    found = [m for m in _gazetteer_parts(before, lex) if m.kind]
    rest = after_title(tokens, lex)
    if rest and not _gazetteer_kind(" ".join(rest), lex) and rest[-1] not in lex.words["not_name_last"]:
        found.append(Mention(" ".join(rest), PERSON))  # not "General Agreement" (on Tariffs and Trade)
    return found


def _split_run(tokens: list[str], prev: str, lex: Lexicon) -> list[Mention]:
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
