"""Matches marked with `<mark>` in escaped text: fragments of a hit, or a whole paragraph."""

from __future__ import annotations

import html

from markupsafe import Markup
from whoosh import highlight

FRAGMENTS = 3
OPENING_CHARS = 240
WHOLE_PARAGRAPH_CHARS = 360  # shorter paragraphs are shown whole, not in fragments


class MarkFormatter(highlight.Formatter):
    """Matches in `<mark>`, everything else escaped; fragments joined by an ellipsis."""

    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{html.escape(highlight.get_text(text, token, replace), quote=False)}</mark>"

    def _text(self, text):
        return html.escape(text, quote=False)


_FORMATTER = MarkFormatter()
_WHOLE = highlight.WholeFragmenter(charlimit=None)
_FRAGMENTER = highlight.ContextFragmenter(maxchars=220, surround=60)


def opening(text: str) -> Markup:
    """The first words of a paragraph, for a hit that matched only its title."""
    if len(text) <= OPENING_CHARS:
        return Markup(html.escape(text, quote=False))
    cut = text.rfind(" ", 0, OPENING_CHARS)
    return Markup(html.escape(text[: cut if cut > 0 else OPENING_CHARS], quote=False) + " …")


def mark(text: str, terms: set[str], analyzer) -> tuple[Markup, bool]:
    """The whole text, escaped, with the words that analyze to `terms` marked; and whether any was."""
    if terms:
        marked = highlight.highlight(text, frozenset(terms), analyzer, _WHOLE, _FORMATTER)
        if marked:
            return Markup(marked), True
    return Markup(html.escape(text, quote=False)), False


def snippet(text: str, terms: set[str], analyzer) -> Markup:
    """A hit's paragraph: whole when short, else up to FRAGMENTS fragments around the
    matches; its opening words when only the title matched."""
    if len(text) <= WHOLE_PARAGRAPH_CHARS:
        marked, matched = mark(text, terms, analyzer)
        return marked if matched else opening(text)
    fragments = highlight.highlight(text, frozenset(terms), analyzer, _FRAGMENTER, _FORMATTER, top=FRAGMENTS) if terms else ""
    return Markup(fragments) if fragments else opening(text)
