"""From what a person typed to a bounded Whoosh query.

The syntax: all words must match; `"a phrase"`; `-word` excludes; `OR`;
`title:`, `section:`, `author:`, … field prefixes; `word*` prefixes. The last
word also matches as a prefix while typing (`elec` finds `election`); close
spellings (`spelling.py`) and synonyms join their words.
Expansions of prefixes and wildcards are capped, and leading wildcards are
refused, so no query can walk the whole lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from whoosh import qparser
from whoosh import query as wq

from ...fields import QUERY_FIELDS, SEARCHED, WORD_PATTERN
from ...search.tolerance import QueryOptions, Synonyms
from .analysis import STOP_WORDS
from .lexicon import Lexicon
from .spelling import corrected_text, with_typos
from .whoosh_compat import prefix_terms

SEARCH_FIELDS = SEARCHED
PREFIX_FIELDS = QUERY_FIELDS
MAX_EXPANSION = 12  # words a prefix or wildcard stands for: the most used ones
MIN_PREFIX = 2
PREFIX_WEIGHT = 0.9  # a word the last one typed begins, below the word as typed

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
    spellings: dict[str, tuple[str, str]] = field(default_factory=dict)  # index term -> (word typed, spelling)


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


def parse_query(text: str, snap, typing: bool = False, options: QueryOptions = QueryOptions()) -> ParsedQuery:
    """Parse and bound a query string for one version of the index: synonyms and close spellings
    join their words, common words count only where they are all there is (or in a phrase), and
    while typing the last word also matches the words it begins."""
    notices: list[str] = []
    prepared = with_synonyms(_prepare(text, notices), options.synonyms)
    parsed = _parser(snap.schema, qparser.AndGroup).parse(prepared)
    parsed = without_stop_words(bound_expansions(parsed, snap), prepared)
    trailing = _TRAILING_WORD.search(prepared) if typing else None
    if trailing and not trailing["word"].isupper() and trailing["word"].lower() not in _OPERATORS:
        parsed = expand_last_word(parsed, trailing.start("word"), trailing["word"].lower(), snap.schema, snap.lexicon)
    spellings: dict[str, tuple[str, str]] = {}
    parsed = with_typos(parsed, prepared, snap, options.typos, SEARCH_FIELDS, spellings)
    if parsed is wq.NullQuery and plain_words(text):
        notices.append("Your query has no word the index can search for; try other words.")
    return ParsedQuery(parsed.normalize(), notices, spellings)


def suggest(text: str, lexicon: Lexicon) -> str:
    """The query with its likely typos corrected ('' when there are none)."""
    corrected = corrected_text(text, lexicon, _WORD, frozenset(_OPERATORS))
    return corrected if corrected != text else ""


def _word_at(node: wq.Query, text: str) -> str | None:
    """The word of the query text a parsed term came from."""
    if isinstance(node, wq.Term) and node.startchar is not None:
        return text[node.startchar:node.endchar].lower()
    return None


def _is_stop_word(node: wq.Query, text: str) -> bool:
    """A plain word that is a common word (`the`, `of`), however many fields it is searched in."""
    leaves = [node] if isinstance(node, wq.Term) else list(node.children()) if isinstance(node, wq.Or) else []
    return bool(leaves) and all(_word_at(leaf, text) in STOP_WORDS for leaf in leaves)


def without_stop_words(q: wq.Query, text: str) -> wq.Query:
    """Common words left out of every group of required words that has other words: they are
    indexed (so a query of only common words, or a phrase, finds them) but would only narrow."""
    if isinstance(q, wq.And):
        children = list(q.children())
        required = [child for child in children if not isinstance(child, wq.Not)]
        common = [child for child in required if _is_stop_word(child, text)]
        if common and len(common) < len(required):
            children = [child for child in children if not any(child is word for word in common)]
        return wq.And([without_stop_words(child, text) for child in children], boost=q.boost)
    if isinstance(q, wq.Not | wq.Phrase) or not list(q.children()):
        return q
    return q.apply(lambda child: without_stop_words(child, text))


def with_synonyms(text: str, synonyms: Synonyms) -> str:
    """The query text with each synonym (outside quotes and field values) widened to its group,
    as `(entry OR "other entry" OR …)`; the longest entry at a place wins."""
    if not synonyms.groups:
        return text
    parts = text.split('"')  # even parts are outside quotes (an unclosed quote was removed before)
    parts[::2] = [_widened(part, synonyms) for part in parts[::2]]
    return '"'.join(parts)


def _widened(text: str, synonyms: Synonyms) -> str:
    words = list(_WORD.finditer(text))
    out, at, n = [], 0, 0
    while n < len(words):
        for size in range(min(synonyms.longest, len(words) - n), 0, -1):
            chosen = words[n:n + size]
            if text[chosen[0].start() - 1:chosen[0].start()] == ":" or chosen[0].group().lower() in _OPERATORS:
                continue
            group = synonyms.group_of(tuple(match.group().lower() for match in chosen))
            if group is not None:
                alternatives = [" ".join(entry) if len(entry) == 1 else f'"{" ".join(entry)}"' for entry in group]
                out.append(text[at:chosen[0].start()] + "(" + " OR ".join(alternatives) + ")")
                at, n = chosen[-1].end(), n + size
                break
        else:
            n += 1
    return "".join(out) + text[at:]


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
    """Let the word typed last (starting at `start`) also match the words it begins, below the
    word as typed (a paragraph counts the best of them)."""
    completions = expand_prefix(lexicon, word)
    return _with_completions(q, start, completions, schema) if completions else q


def _with_completions(node: wq.Query, start: int, completions: list[str], schema) -> wq.Query:
    # A module function, not a closure calling itself (a reference cycle holding the schema).
    if isinstance(node, wq.Term) and node.startchar == start and node.fieldname in SEARCH_FIELDS:
        terms = [term for term in _prefix_terms(node.fieldname, completions, schema) if term.text != node.text]
        for term in terms:
            term.boost = PREFIX_WEIGHT
        return wq.DisjunctionMax([node, *terms]) if terms else node
    if isinstance(node, wq.Not) or not list(node.children()):
        return node
    return node.apply(lambda child: _with_completions(child, start, completions, schema))


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
