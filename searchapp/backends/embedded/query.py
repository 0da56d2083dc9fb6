"""From what a person typed to a bounded Whoosh query.

The syntax: all words must match; `"a phrase"`; `-word` excludes; `OR`;
`title:`, `section:`, `author:`, … field prefixes; `word*` prefixes. The last
word also matches as a prefix while typing (`elec` finds `election`).
Expansions of prefixes and wildcards are capped, and leading wildcards are
refused, so no query can walk the whole lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from whoosh import qparser
from whoosh import query as wq
from whoosh.spelling import ListCorrector

from ...fields import QUERY_FIELDS, SEARCHED, WORD_PATTERN
from .lexicon import Lexicon
from .whoosh_compat import prefix_terms

SEARCH_FIELDS = SEARCHED
PREFIX_FIELDS = QUERY_FIELDS
MAX_EXPANSION = 12  # words a prefix or wildcard stands for: the most used ones
MIN_PREFIX = 2
SUGGESTIONS_PER_WORD = 3

_WORD = re.compile(WORD_PATTERN)
_NEGATION = re.compile(r"(?:(?<=^)|(?<=[\s(]))-+(?=[\w\"(])")
_EMPTY_FIELD = re.compile(rf"\b(?:{'|'.join(PREFIX_FIELDS)}):(?=\s|$)")
_LEADING_WILDCARD = re.compile(r"(?:(?<=^)|(?<=[\s(:]))[*?]+")
_TRAILING_WORD = re.compile(r"(?:^|[\s(])(?P<word>\w[\w'’.-]*)$")
_OPERATORS = {"and", "or", "not", "andnot", "andmaybe", "to"}


@dataclass
class ParsedQuery:
    """The Whoosh query for a query string, and what was changed on the way."""

    query: wq.Query
    notices: list[str] = field(default_factory=list)


def _parser(schema, group) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(SEARCH_FIELDS), schema, group=group)
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.FieldsPlugin)
    parser.add_plugin(qparser.FieldsPlugin(expr=rf"(?P<text>{'|'.join(PREFIX_FIELDS)}):"))
    return parser


def plain_words(text: str) -> list[str]:
    """The query's search words in order, without operators and field names."""
    text = re.sub(rf"\b(?:{'|'.join(PREFIX_FIELDS)}):", " ", text)
    return [w for w in _WORD.findall(text) if w.lower() not in _OPERATORS]


def _prepare(text: str, notices: list[str]) -> str:
    if _EMPTY_FIELD.search(text):
        notices.append("A field name such as `title:` needs a word right after it; it was left out.")
        text = _EMPTY_FIELD.sub("", text)
    if _LEADING_WILDCARD.search(text):
        notices.append("Words cannot start with * or ?; the wildcard was left out.")
        text = _LEADING_WILDCARD.sub("", text)
    if text.count('"') % 2:
        notices.append("A quotation mark was not closed; it was ignored.")
        text = text.replace('"', " ")
    return _NEGATION.sub(" NOT ", text)


def parse_query(text: str, snap, typing: bool = True) -> ParsedQuery:
    """Parse, bound and (while typing) prefix-expand a query string, for one version of the index."""
    notices: list[str] = []
    prepared = _prepare(text, notices)
    parsed = _parser(snap.schema, qparser.AndGroup).parse(prepared)
    parsed = bound_expansions(parsed, snap)
    trailing = _TRAILING_WORD.search(prepared) if typing else None
    if trailing and not trailing["word"].isupper() and trailing["word"].lower() not in _OPERATORS:
        parsed = expand_last_word(parsed, trailing.start("word"), trailing["word"].lower(), snap.schema, snap.lexicon)
    if parsed is wq.NullQuery and plain_words(text):
        notices.append("Your query has only very common words; try more specific ones.")
    return ParsedQuery(parsed.normalize(), notices)


def relax(q: wq.Query) -> wq.Query | None:
    """The query with any one of its required parts enough, exclusions still excluded.

    Fills a short page with paragraphs that match some of the words; None when
    the query has fewer than two required parts.
    """
    if isinstance(q, wq.AndNot):
        relaxed = relax(q.a)
        return wq.AndNot(relaxed, q.b) if relaxed is not None else None
    if not isinstance(q, wq.And):
        return None
    required = [child for child in q.children() if not isinstance(child, wq.Not)]
    excluded = [child.query for child in q.children() if isinstance(child, wq.Not)]
    if len(required) < 2:
        return None
    relaxed: wq.Query = wq.Or(required)
    return wq.AndNot(relaxed, wq.Or(excluded)) if excluded else relaxed


def expand_prefix(lexicon: Lexicon, prefix: str, limit: int = MAX_EXPANSION) -> list[str]:
    """The most used indexed words that start with `prefix`, at most `limit`."""
    return lexicon.completions(prefix, limit) if len(prefix) >= MIN_PREFIX else []


def _analyzed(schema, fieldname: str, word: str) -> list[str]:
    return list(schema[fieldname].process_text(word, mode="query"))


def _prefix_terms(fieldname: str, words: list[str], schema) -> list[wq.Query]:
    stems = dict.fromkeys(stem for word in words for stem in _analyzed(schema, fieldname, word))
    return [wq.Term(fieldname, stem) for stem in stems]


def expand_last_word(q: wq.Query, start: int, word: str, schema, lexicon: Lexicon) -> wq.Query:
    """Let the word typed last (starting at `start`) also match the words it begins."""
    completions = expand_prefix(lexicon, word)
    if not completions:
        return q

    def replace(node: wq.Query) -> wq.Query:
        if isinstance(node, wq.Term) and node.startchar == start and node.fieldname in SEARCH_FIELDS:
            terms = _prefix_terms(node.fieldname, completions, schema)
            if all(t.text != node.text for t in terms):
                terms.insert(0, node)
            return wq.Or(terms, boost=node.boost) if len(terms) > 1 else node
        if isinstance(node, wq.Not):
            return node
        return node.apply(replace) if list(node.children()) else node

    return replace(q)


def bound_expansions(q: wq.Query, snap) -> wq.Query:
    """Prefix and wildcard nodes as an explicit Or of at most MAX_EXPANSION terms.

    On the stemmed title and text the words come from the unstemmed lexicon and
    are stemmed (so `electi*` finds `election`, whose stem is `elect`).
    """
    if isinstance(q, wq.Prefix | wq.Wildcard):
        if q.fieldname in SEARCH_FIELDS:
            words = _lexicon_matches(q, snap.lexicon)
            terms = _prefix_terms(q.fieldname, words, snap.schema)
        else:
            terms = [wq.Term(q.fieldname, word) for word in prefix_terms(q, snap.searcher().reader(), MAX_EXPANSION)]
        return wq.Or(terms, boost=q.boost) if terms else wq.NullQuery
    if list(q.children()):
        return q.apply(lambda child: bound_expansions(child, snap))
    return q


def _lexicon_matches(q: wq.Prefix | wq.Wildcard, lexicon: Lexicon) -> list[str]:
    pattern = q.text.lower()
    if isinstance(q, wq.Prefix):
        return expand_prefix(lexicon, pattern)
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if len(literal) < MIN_PREFIX:
        return []
    candidates = lexicon.completions(literal, limit=MAX_EXPANSION * 20)
    return [word for word in candidates if fnmatchcase(word, pattern)][:MAX_EXPANSION]


def _one_edit_away(word: str, lexicon: Lexicon) -> list[str]:
    """The indexed words one edit from `word` (insertion, deletion, substitution, or two
    neighbouring letters swapped, the commonest typo), its first letter kept.

    Trying every single edit against the word set is far quicker than walking
    the sorted word list with a Levenshtein automaton, which two edits need.
    """
    letters = lexicon.letters()
    variants = {word[:i] + word[i + 1:] for i in range(1, len(word))}
    variants.update(word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, len(word) - 1))
    for i in range(1, len(word) + 1):
        head, tail = word[:i], word[i:]
        variants.update(head + letter + tail for letter in letters)
        if tail:
            variants.update(head + letter + tail[1:] for letter in letters)
    variants.discard(word)
    return [variant for variant in variants if variant in lexicon]


def close_words(text: str, lexicon: Lexicon) -> dict[str, list[str]]:
    """Each word of the query that is not in the index -> the closest indexed words.

    The first letter must match (typos there are rare, and it makes the search
    of the word list far cheaper); one edit is tried before two; among equally
    close words the most used come first.
    """
    close: dict[str, list[str]] = {}
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        if word in close or word in _OPERATORS or text[match.end():match.end() + 1] == ":":
            continue
        if len(word) < 3 or word in lexicon:
            continue
        found = _one_edit_away(word, lexicon)
        if not found and len(word) > 4:
            found = ListCorrector(lexicon.words).suggest(word, limit=50, maxdist=2, prefix=1)
        if found:
            close[word] = sorted(found, key=lambda w: (-lexicon.counts[w], w))[:SUGGESTIONS_PER_WORD]
    return close


def _replace_words(text: str, replacements: dict[str, str]) -> str:
    return _WORD.sub(lambda m: replacements.get(m.group(0).lower(), m.group(0)), text)


def suggest_query(text: str, close: dict[str, list[str]]) -> str:
    """The query with each unknown word replaced by its closest indexed word, or ''."""
    return _replace_words(text, {word: found[0] for word, found in close.items()}) if close else ""


def typo_tolerant_text(text: str, close: dict[str, list[str]]) -> str:
    """The query with each unknown word widened to `(word OR close1 OR close2 …)`, or ''."""
    if not close:
        return ""
    return _replace_words(text, {word: "(" + " OR ".join([word, *found]) + ")" for word, found in close.items()})


def query_terms(q: wq.Query) -> set[str]:
    """The text terms a query searches for (not those it excludes), for highlighting."""
    if isinstance(q, wq.Not):
        return set()
    if isinstance(q, wq.AndNot):
        return query_terms(q.a)
    children = list(q.children())
    if children:
        return set().union(*(query_terms(child) for child in children))
    if q.has_terms():
        return {text for fieldname, text in q.terms(phrases=True) if fieldname in SEARCH_FIELDS}
    return set()
