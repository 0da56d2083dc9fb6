"""OpenSearch's highlights turned into searchapp's: `<mark>` in HTML-escaped text.

OpenSearch marks each field on its own (`text` for stemmed matches, `text.exact` for phrases
of common words and prefixes), each as the whole value (`number_of_fragments: 0`). Here the
marks of both are read back as character spans of the plain text, merged, and cut into
fragments the way the embedded backend cuts them: short paragraphs whole, long ones as up to
three fragments around the matches, a hit that matched only in its title by its opening words.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable

from markupsafe import Markup

from ...search.highlighting import BETWEEN, FRAGMENT_CHARS, FRAGMENTS, SURROUND_CHARS, WHOLE_PARAGRAPH_CHARS, opening

log = logging.getLogger(__name__)

PRE, POST = "<mark>", "</mark>"
_TAGS = re.compile(f"({re.escape(PRE)}|{re.escape(POST)})")

Span = tuple[int, int]


def highlight_request(fields: Iterable[str]) -> dict[str, object]:
    """The `highlight` part of a search body: whole values of each field and its `exact` subfield."""
    return {
        "type": "unified", "encoder": "html", "pre_tags": [PRE], "post_tags": [POST],
        "number_of_fragments": 0,
        "fields": {name: {} for field in fields for name in (field, f"{field}.exact")},
    }


def spans(marked: str, plain: str) -> list[Span]:
    """The marked character ranges of `plain`, read from OpenSearch's escaped, marked copy of it."""
    found: list[Span] = []
    text: list[str] = []
    length = 0
    start = None
    for part in _TAGS.split(marked):
        if part == PRE:
            start = length
        elif part == POST:
            if start is not None and length > start:
                found.append((start, length))
            start = None
        else:
            piece = html.unescape(part)
            text.append(piece)
            length += len(piece)
    if "".join(text) != plain:
        log.warning("a highlight does not match its field's text; shown without marks: %.80r", plain)
        return []
    return found


def field_spans(highlight: dict[str, list[str]], field: str, plain: str) -> list[Span]:
    """The marked ranges of one field, from its own highlight and its `exact` subfield's, merged."""
    found = [span for name in (field, f"{field}.exact") for value in highlight.get(name, [])[:1]
             for span in spans(value, plain)]
    return merge(found)


def merge(found: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, start: int, end: int, marks: list[Span]) -> str:
    output, at = [], start
    for mark_start, mark_end in marks:
        output.append(html.escape(text[at:mark_start], quote=False))
        output.append(f"{PRE}{html.escape(text[mark_start:mark_end], quote=False)}{POST}")
        at = mark_end
    output.append(html.escape(text[at:end], quote=False))
    return "".join(output)


def whole(text: str, marks: list[Span]) -> Markup:
    """All of `text`, escaped, its marks in place."""
    return Markup(_marked(text, 0, len(text), marks))


def _context(text: str, first: int, last: int) -> tuple[int, int]:
    """From up to SURROUND_CHARS before `first` to up to SURROUND_CHARS after `last`, cut at spaces."""
    start, end = max(0, first - SURROUND_CHARS), min(len(text), last + SURROUND_CHARS)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", last, end)
        end = space if space >= 0 else end
    return start, end


def _fragments(text: str, marks: list[Span]) -> list[tuple[int, int, list[Span]]]:
    """Runs of marks at most FRAGMENT_CHARS long, with their context."""
    runs: list[list[Span]] = []
    for mark in marks:
        if runs and mark[1] - runs[-1][0][0] <= FRAGMENT_CHARS:
            runs[-1].append(mark)
        else:
            runs.append([mark])
    return [(*_context(text, run[0][0], run[-1][1]), run) for run in runs]


def snippet(text: str, marks: list[Span]) -> Markup:
    """A hit's paragraph: whole when short, else its best fragments in text order; its
    opening words when nothing in it matched."""
    if not marks:
        return opening(text)
    if len(text) <= WHOLE_PARAGRAPH_CHARS:
        return whole(text, marks)
    fragments = _fragments(text, marks)

    def score(fragment: tuple[int, int, list[Span]]) -> int:
        inside = fragment[2]
        return len(inside) * len({text[s:e].lower() for s, e in inside}) * 100

    best = sorted(range(len(fragments)), key=lambda n: -score(fragments[n]))[:FRAGMENTS]
    return Markup(BETWEEN.join(_marked(text, *fragments[n]) for n in sorted(best)))
