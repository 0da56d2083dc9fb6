"""Close spellings from the word list: typo tolerance on every search, and "Did you mean".

A query word may match its close spellings (see `search.tolerance.TypoPolicy`);
they join its matches at a lower weight, so a paragraph with the word as typed
ranks first, then one with a word one typo away, then two. When the typed word
is not in the index at all, its closest spellings take its place at full
weight. "Did you mean" proposes the query with each unknown word, and each
word far rarer than a close spelling, replaced by the most used close spelling.
"""

from __future__ import annotations

import re

from whoosh import query as wq
from whoosh.spelling import ListCorrector

from ...search.tolerance import TypoPolicy
from .lexicon import Lexicon

TYPO_WEIGHT = {0: 1.0, 1: 0.6, 2: 0.4}  # a match's weight by its typos more than the closest spelling's
MAX_VARIANTS = 8  # close spellings a word stands for: the most used
RARE = 20  # a word this many times rarer than a close spelling is likely a typo of it
CACHED_WORDS = 20_000


def one_edit_away(word: str, lexicon: Lexicon) -> list[str]:
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


def close_spellings(word: str, lexicon: Lexicon, typos: int) -> list[tuple[str, int]]:
    """Indexed words within `typos` edits of `word` (first letter kept), with their distance:
    the closer first, then the most used; at most MAX_VARIANTS. Remembered per word list."""
    key = (word, typos)
    cache = lexicon.spellings
    found = cache.get(key)
    if found is None:
        if len(cache) > CACHED_WORDS:
            cache.clear()
        found = [(variant, 1) for variant in one_edit_away(word, lexicon)] if typos >= 1 else []
        if typos >= 2 and lexicon.words:  # Whoosh's corrector fails on an empty list
            near = {variant for variant, _ in found}
            two = ListCorrector(lexicon.words).suggest(word, limit=50, maxdist=2, prefix=1)
            found += [(variant, 2) for variant in two if variant not in near and variant != word]
        found.sort(key=lambda item: (item[1], -lexicon.counts[item[0]], item[0]))
        found = cache[key] = found[:MAX_VARIANTS]
    return found


def typo_alternatives(word: str, lexicon: Lexicon, policy: TypoPolicy) -> list[tuple[str, float]]:
    """The words `word` also matches, with their weights (the word itself not included).

    A word the index has as typed gets its one-typo spellings only: two-typo ones
    need a walk of the whole word list (tens of milliseconds a word), worth it
    for a word the index does not know, not for every long word of a question.
    """
    typos = policy.allowed(word)
    if typos > 1 and word in lexicon:
        typos = 1
    if not typos:
        return []
    found = close_spellings(word, lexicon, typos)
    if not found:
        return []
    closest = 0 if word in lexicon else found[0][1]  # an unknown word: its closest spellings in full
    return [(variant, TYPO_WEIGHT[distance - closest]) for variant, distance in found]


def corrected_text(text: str, lexicon: Lexicon, words: re.Pattern, skip: frozenset[str]) -> str:
    """`text` with each word (outside quotes, field names and values) that is likely a typo
    replaced by its most likely spelling; `text` itself when none is."""
    parts = text.split('"')

    def correct(match: re.Match) -> str:
        word, after, before = match.group(), match.string[match.end():match.end() + 1], match.string[:match.start()]
        if after == ":" or before.endswith(":") or word.lower() in skip or word.isupper() and len(word) <= 3:
            return word
        return best_spelling(word.lower(), lexicon) or word

    parts[::2] = [words.sub(correct, part) for part in parts[::2]]
    return '"'.join(parts)


def best_spelling(word: str, lexicon: Lexicon) -> str | None:
    """What `word` most likely meant, when it is not indexed or far rarer than a close spelling."""
    if len(word) < 3 or any(ch.isdigit() for ch in word):
        return None
    found = close_spellings(word, lexicon, 2 if len(word) > 4 and word not in lexicon else 1)
    if not found:
        return None
    nearest = [variant for variant, distance in found if distance == found[0][1]]
    best = max(nearest, key=lambda variant: lexicon.counts[variant])
    if word not in lexicon or lexicon.counts[word] * RARE < lexicon.counts[best]:
        return best
    return None


def with_typos(q: wq.Query, text: str, snap, policy: TypoPolicy, searched: tuple[str, ...],
               explained: dict[str, tuple[str, str]]) -> wq.Query:
    """Each searched word of `q` (parsed from `text`) widened to its close spellings, as a
    `DisjunctionMax`: a paragraph counts the best of the word and its spellings. `explained`
    gets each spelling's index term -> (the word typed, the spelling)."""
    if not policy.enabled:
        return q
    return _widened(q, text, snap, policy, searched, explained)


def _widened(node: wq.Query, text: str, snap, policy: TypoPolicy, searched: tuple[str, ...],
             explained: dict[str, tuple[str, str]]) -> wq.Query:
    # A module function, not a closure calling itself: that closure would be a reference cycle
    # holding the snapshot (its files and memory maps) until the cycle collector runs.
    if isinstance(node, wq.Term) and node.fieldname in searched and node.startchar is not None:
        word = text[node.startchar:node.endchar].lower()
        alternatives = typo_alternatives(word, snap.lexicon, policy)
        terms = _weighted_terms(node, alternatives, snap)
        explained.update((term.text, (word, variant)) for term, variant in terms)
        terms = [term for term, _ in terms]
        return wq.DisjunctionMax([node, *terms]) if terms else node
    if isinstance(node, wq.Not | wq.Phrase) or not list(node.children()):
        return node
    return node.apply(lambda child: _widened(child, text, snap, policy, searched, explained))


def _weighted_terms(node: wq.Term, alternatives: list[tuple[str, float]], snap) -> list[tuple[wq.Term, str]]:
    terms, seen = [], {node.text}
    field = snap.schema[node.fieldname]
    for variant, weight in alternatives:
        for stem in field.process_text(variant, mode="query"):
            if stem not in seen:
                seen.add(stem)
                terms.append((wq.Term(node.fieldname, stem, boost=weight), variant))
    return terms
