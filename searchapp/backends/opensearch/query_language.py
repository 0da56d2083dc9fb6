"""searchapp's query language, parsed here and translated to OpenSearch's query DSL.

The language is the embedded backend's: all words required (in the title or the text);
`"phrases"`; `-word` and `NOT word` exclude; `OR` (and `AND`) between neighbours, before the
implicit AND of what stands side by side (`war peace OR truce` is war AND (peace OR truce));
parentheses; field prefixes (`title:`, `section:"Building a new Syria"`, `author:`, …);
`word*` and `w?rd` patterns; while typing, the last word also matches as a prefix.

Stop words ("the", "to", …) are left out of a query, as the English fields leave them out of
the index, unless the query has nothing else: then they must match the `exact` subfields, so
`to be or not to be` finds Hamlet. Phrases always search both.

Typos (`TypoPolicy`, Meilisearch's lengths): a plain word of 5 letters or more also matches the
unstemmed words one edit away, 9 or more two, the first letter kept (`fuzziness` with
`prefix_length: 1` on the `exact` subfields); the word as typed is a `should` boosted
`EXACT_BOOST` times, so exact matches rank first. Not in phrases, patterns or field values.

Synonyms (`Synonyms`): plain words side by side that form an entry of a group (the longest
first) match as typed or as any other entry of the group, each a phrase. Not inside quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...fields import FIELDS_BY_NAME, QUERY_FIELDS, SEARCHED, TEXT
from ...search.tolerance import Synonyms, TypoPolicy
from .mapping import STOP_WORDS

TEXT_PREFIXES = {name: (name,) for name in QUERY_FIELDS if FIELDS_BY_NAME[name].kind == TEXT}
KEYWORD_PREFIXES = {name: name for name in QUERY_FIELDS if FIELDS_BY_NAME[name].kind != TEXT}
PREFIX_FIELDS = (*TEXT_PREFIXES, *KEYWORD_PREFIXES)
BOOSTS = {name: FIELDS_BY_NAME[name].boost for name in SEARCHED}
MIN_PREFIX = 2
EXACT_BOOST = 3.0  # the word as typed, over its close spellings
NO_TYPOS = TypoPolicy(enabled=False)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) |
        (?P<neg>-+)(?=[\w"“(]) |
        (?P<field>(?:FIELDS)):(?=\S) |
        (?P<quote>["“”][^"“”]*["“”]) |
        (?P<word>[^\s()"“”]+)
    )""".replace("FIELDS", "|".join(PREFIX_FIELDS)),
    re.X,
)
_EMPTY_FIELD = re.compile(rf"(?:(?<=^)|(?<=[\s(]))(?:{'|'.join(PREFIX_FIELDS)}):(?=\s|$|\))")
_LEADING_WILDCARD = re.compile(r"(?:(?<=^)|(?<=[\s(:\-]))[*?]+")
_WORDS = re.compile(r"\w+")
OPERATORS = ("AND", "OR", "NOT")


@dataclass
class Term:
    text: str
    field: str | None = None  # a prefix field; None: the title and the text
    complete: bool = False  # the word being typed: also matches the words it begins


@dataclass
class Phrase:
    text: str
    field: str | None = None


@dataclass
class Not:
    child: Node


@dataclass
class Group:
    op: str  # "and" | "or"
    children: list[Node] = field(default_factory=list)


Node = Term | Phrase | Not | Group


@dataclass
class Parsed:
    """A query's tree (None: nothing to search for) and what was changed on the way."""

    tree: Node | None
    notices: list[str] = field(default_factory=list)


def _prepare(text: str, notices: list[str]) -> str:
    if _EMPTY_FIELD.search(text):
        notices.append("A field name such as `title:` needs a word right after it; it was left out.")
        text = _EMPTY_FIELD.sub("", text)
    if _LEADING_WILDCARD.search(text):
        notices.append("Words cannot start with * or ?; the wildcard was left out.")
        text = _LEADING_WILDCARD.sub("", text)
    if (text.count('"') + text.count("“") + text.count("”")) % 2:
        notices.append("A quotation mark was not closed; it was ignored.")
        text = re.sub(r'["“”]', " ", text)
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(text) if m.lastgroup]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        self.at += 1
        return self.tokens[self.at - 1]

    def sequence(self, field: str | None, closing: bool) -> Node | None:
        """What stands side by side, joined by AND, up to a closing parenthesis or the end."""
        children = []
        while (token := self.peek()) is not None:
            if token[0] == "close":
                if closing:
                    break
                self.take()  # a stray `)`: ignored
                continue
            node = self.operators(field)
            if node is not None:
                children.append(node)
        return _group("and", children)

    def operators(self, field: str | None) -> Node | None:
        node = self.unary(field)
        while self.peek() in (("word", "OR"), ("word", "AND")):
            op = self.take()[1].lower()
            if self.peek() is None or self.peek()[0] == "close":
                break
            right = self.unary(field)
            node = _group(op, [n for n in (node, right) if n is not None])
        return node

    def unary(self, field: str | None) -> Node | None:
        kind, value = self.take()
        if kind == "neg" or (kind, value) == ("word", "NOT"):
            if self.peek() is None or self.peek()[0] == "close":
                return None
            child = self.unary(field)
            return Not(child) if child is not None else None
        if kind == "open":
            node = self.sequence(field, closing=True)
            if self.peek() is not None:
                self.take()  # the `)`
            return node
        if kind == "field":
            return self.unary(value) if self.peek() is not None else None
        if kind == "quote":
            text = value[1:-1].strip()
            return Phrase(text, field) if text else None
        if kind == "close" or value in OPERATORS:
            return None
        return Term(value, field)


def _group(op: str, children: list[Node]) -> Node | None:
    if not children:
        return None
    return children[0] if len(children) == 1 else Group(op, children)


def parse(text: str, typing: bool = True) -> Parsed:
    """The tree of a query string; while `typing`, its last word is marked to complete."""
    notices: list[str] = []
    prepared = _prepare(text, notices)
    tokens = _tokens(prepared)
    tree = _Parser(tokens).sequence(None, closing=False) if tokens else None
    if typing and tokens and prepared.rstrip() == prepared and tokens[-1][0] == "word":
        _mark_last_word(tree, tokens[-1][1])
    return Parsed(tree, notices)


def _mark_last_word(tree: Node | None, word: str) -> None:
    """The last plain word, unless excluded, upper-case (an operator, an acronym) or a pattern."""
    last = tree
    while isinstance(last, Group) and last.children:
        last = last.children[-1]
    if (isinstance(last, Term) and last.text == word and last.field in (None, *TEXT_PREFIXES)
            and not word.isupper() and not any(c in word for c in "*?") and len(word) >= MIN_PREFIX):
        last.complete = True


def words(tree: Node | None) -> list[str]:
    """The lower-cased words a tree searches the title and text for (not those it excludes)."""
    if isinstance(tree, Term):
        return _WORDS.findall(tree.text.lower()) if tree.field in (None, *TEXT_PREFIXES) else []
    if isinstance(tree, Phrase):
        return _WORDS.findall(tree.text.lower()) if tree.field in (None, *TEXT_PREFIXES) else []
    if isinstance(tree, Group):
        return [w for child in tree.children for w in words(child)]
    return []


def _all_words(tree: Node | None) -> list[str]:
    """Every word of the title and text terms, excluded ones too."""
    if isinstance(tree, Not):
        return _all_words(tree.child)
    if isinstance(tree, Group):
        return [w for child in tree.children for w in _all_words(child)]
    return words(tree) if isinstance(tree, Term) else []


class Translation:
    """One parsed query as OpenSearch DSL; `to_dsl()` is None when nothing is left to search."""

    def __init__(self, parsed: Parsed, typos: TypoPolicy = NO_TYPOS, synonyms: Synonyms = Synonyms()):
        self.parsed, self.typos, self.synonyms = parsed, typos, synonyms
        every = _all_words(parsed.tree)
        # Stop words count only when the query has nothing but stop words (and phrases).
        self.stop_words_only = bool(every) and all(_ignored(w) for w in every)

    def to_dsl(self) -> dict[str, object] | None:
        return self._node(self.parsed.tree)

    def _node(self, node: Node | None) -> dict[str, object] | None:
        if isinstance(node, Term):
            return self._synonyms([node]) or self._term(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, Not):
            child = self._node(node.child)
            return {"bool": {"must_not": [child]}} if child is not None else None
        if isinstance(node, Group):
            return self._group(node)
        return None

    def _group(self, group: Group) -> dict[str, object] | None:
        nodes = self._with_synonyms(group.children) if group.op == "and" and self.synonyms.groups else group.children
        return _combine(group.op, [n if isinstance(n, dict) else self._node(n) for n in nodes])

    def _with_synonyms(self, children: list[Node]) -> list[Node | dict[str, object]]:
        """The children with each run of plain words that is a synonym entry (longest first) as its DSL."""
        out: list[Node | dict[str, object]] = []
        at = 0
        while at < len(children):
            for length in range(min(self.synonyms.longest, len(children) - at), 1, -1):
                clause = self._synonyms(children[at:at + length])
                if clause is not None:
                    out.append(clause)
                    at += length
                    break
            else:
                out.append(children[at])
                at += 1
        return out

    def _synonyms(self, nodes: list[Node]) -> dict[str, object] | None:
        """The words of `nodes` as typed or as any other entry of their synonym group; None if no group."""
        if not self.synonyms.groups or not all(
                isinstance(n, Term) and n.field is None and not any(c in n.text for c in "*?") for n in nodes):
            return None
        group = self.synonyms.group_of(tuple(w for n in nodes for w in _WORDS.findall(n.text.lower())))
        if group is None:
            return None
        as_typed = _combine("and", [self._term(n) for n in nodes if isinstance(n, Term)])
        others = [self._phrase(Phrase(" ".join(entry))) for entry in group[1:]]
        return {"bool": {"should": [c for c in (as_typed, *others) if c is not None], "minimum_should_match": 1}}

    def _term(self, term: Term) -> dict[str, object] | None:
        if term.field in KEYWORD_PREFIXES:
            return _keyword(KEYWORD_PREFIXES[term.field], term.text)
        fields = TEXT_PREFIXES.get(term.field or "", SEARCHED)
        if "*" in term.text or "?" in term.text:
            return _pattern(fields, term.text.lower())
        tokens = _WORDS.findall(term.text.lower())
        if not tokens:
            return None
        if all(_ignored(t) for t in tokens) and not self.stop_words_only:
            return None
        suffix = ".exact" if self.stop_words_only else ""
        query: dict[str, object] = {"multi_match": {
            "query": term.text, "fields": [f"{f}{suffix}^{BOOSTS[f]:g}" for f in fields],
            "type": "cross_fields", "operator": "and", "tie_breaker": 1.0,  # a sum over fields, as BM25F
        }}
        typos = 0 if self.stop_words_only or len(tokens) > 1 else self.typos.allowed(tokens[0])
        if typos:
            query = _with_close_spellings(query, fields, tokens[0], typos)
        if term.complete:
            prefixes = [{"prefix": {f"{f}.exact": {"value": tokens[-1], "boost": 0.5}}} for f in fields]
            query = {"bool": {"should": [query, *prefixes], "minimum_should_match": 1}}
        return query

    def _phrase(self, phrase: Phrase) -> dict[str, object]:
        if phrase.field in KEYWORD_PREFIXES:
            return _keyword(KEYWORD_PREFIXES[phrase.field], phrase.text)
        fields = TEXT_PREFIXES.get(phrase.field or "", SEARCHED)
        # The stemmed field finds "naval bases" for "naval base"; the exact one, phrases of stop words.
        # A phrase holding a stop word is matched on the exact field only: the stemmed one drops the word
        # and keeps only a gap, so "bank of england" would find "a bank in England".
        analyses = ("",) if not any(_ignored(w) for w in _WORDS.findall(phrase.text.lower())) else ()
        clauses = [
            {"match_phrase": {f"{f}{suffix}": {"query": phrase.text, "boost": BOOSTS[f]}}}
            for f in fields for suffix in (*analyses, ".exact")
        ]
        return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _combine(op: str, clauses: list[dict[str, object] | None]) -> dict[str, object] | None:
    """Clauses joined by `op` ("and", "or"); exclusions of an "and" as its `must_not`."""
    children = [c for c in clauses if c is not None]
    if not children:
        return None
    if len(children) == 1:
        return children[0]
    if op == "or":
        return {"bool": {"should": children, "minimum_should_match": 1}}
    excluded = [c["bool"]["must_not"][0] for c in children if _is_exclusion(c)]
    required = [c for c in children if not _is_exclusion(c)]
    body: dict[str, object] = {"must": required} if required else {"must": [{"match_all": {}}]}
    if excluded:
        body["must_not"] = excluded
    return {"bool": body}


def _with_close_spellings(exact: dict[str, object], fields: tuple[str, ...], word: str,
                          typos: int) -> dict[str, object]:
    """`exact` (boosted) or the unstemmed words up to `typos` edits from `word`, first letter kept."""
    exact["multi_match"]["boost"] = EXACT_BOOST
    close = {"multi_match": {
        "query": word, "fields": [f"{f}.exact^{BOOSTS[f]:g}" for f in fields], "type": "best_fields",
        "tie_breaker": 1.0, "fuzziness": typos, "prefix_length": 1, "max_expansions": 50,
    }}
    return {"bool": {"should": [exact, close], "minimum_should_match": 1}}


def _ignored(word: str) -> bool:
    """A word the English fields drop (a stop word), or a single letter, as the embedded index does."""
    return word in STOP_WORDS or len(word) < 2


def _is_exclusion(clause: dict[str, object]) -> bool:
    inner = clause.get("bool")
    return isinstance(inner, dict) and list(inner) == ["must_not"]


def _keyword(field: str, value: str) -> dict[str, object]:
    if value.endswith("*") and len(value.rstrip("*")) >= 1 and "*" not in value.rstrip("*"):
        return {"prefix": {field: {"value": value.rstrip("*"), "case_insensitive": True}}}
    return {"term": {field: {"value": value, "case_insensitive": True}}}


def _pattern(fields: tuple[str, ...], pattern: str) -> dict[str, object] | None:
    """`word*` as a prefix, `w?rd*` as a wildcard, on the unstemmed words; at least two letters first."""
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if len(literal) < MIN_PREFIX:
        return None
    if pattern.endswith("*") and "*" not in pattern[:-1].rstrip("*") and "?" not in pattern:
        clauses = [{"prefix": {f"{f}.exact": {"value": pattern.rstrip("*"), "boost": BOOSTS[f]}}} for f in fields]
    else:
        clauses = [{"wildcard": {f"{f}.exact": {"value": pattern, "boost": BOOSTS[f]}}} for f in fields]
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def relax(dsl: dict[str, object] | None) -> dict[str, object] | None:
    """The query with any one of its required parts enough, exclusions still excluded; None when
    it has fewer than two required parts. Fills a short page with paragraphs matching some words."""
    inner = dsl.get("bool") if dsl else None
    if not isinstance(inner, dict) or "should" in inner or len(inner.get("must", [])) < 2:
        return None
    relaxed: dict[str, object] = {"should": inner["must"], "minimum_should_match": 1}
    if inner.get("must_not"):
        relaxed["must_not"] = inner["must_not"]
    return {"bool": relaxed}


def translate(text: str, typing: bool = True, typos: TypoPolicy = NO_TYPOS, synonyms: Synonyms = Synonyms()
              ) -> tuple[dict[str, object] | None, list[str], dict[str, object] | None]:
    """The DSL query for a query string (None: nothing to search for), its notices, and its
    relaxed form (see `relax`)."""
    parsed = parse(text, typing)
    translation = Translation(parsed, typos, synonyms)
    dsl = translation.to_dsl()
    notices = list(parsed.notices)
    if dsl is None and words(parsed.tree):
        notices.append("Your query has only very common words; try more specific ones.")
    # Some of the words of `to be or not to be` is nearly every paragraph: no filling up then.
    return dsl, notices, None if translation.stop_words_only else relax(dsl)
