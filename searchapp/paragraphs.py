"""Splitting an `Article` into `Paragraph` documents: stable ids, kinds, sections."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .articles import Article
from .entities import Entities, extract_article_entities

_OPENING_QUOTES = "\"“‘'«"
_QUOTED = re.compile(r"[\"“](.*?)(?:[\"”]|$)|‘(.*?)(?:’(?!\w)|$)", re.S)
QUOTE_SHARE = 0.6


@dataclass(frozen=True)
class Paragraph:
    """One searchable document: a paragraph with its article's fields."""

    id: str
    article_id: str
    title: str
    author: str
    source: str
    published: str
    url: str
    topic: str
    section: str
    position: int
    kind: str
    text: str
    credit: str = ""
    origin: str = ""
    article_hash: str = ""
    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)  # not asdict(): that deep-copies, a tenth of a build's time


def quoted_share(text: str) -> float:
    """The share of a paragraph's characters that stand inside quotation marks."""
    inside = sum(len(match.group(0)) for match in _QUOTED.finditer(text))
    return inside / len(text) if text else 0.0


def paragraph_kind(text: str, role: str) -> str:
    """`related` for a related-article link, `quote` for a paragraph that is
    essentially a direct quotation (it opens with a quotation mark and most of
    it is quoted), else `body`."""
    if role == "related":
        return "related"
    if text[:1] in _OPENING_QUOTES and quoted_share(text) >= QUOTE_SHARE:
        return "quote"
    return "body"


def paragraph_id(article_id: str, position: int) -> str:
    return f"{article_id}-p{position}"


def article_entities(article: Article, entities: str = "rules") -> list[Entities]:
    """The names of each of the article's paragraphs (headings are none), merged across the
    article, by the `entities` extractor (`rules`, `spacy`), or none if it is `off`."""
    texts = [block.text for block in article.blocks if block.role != "heading"]
    if entities == "off":
        return [Entities()] * len(texts)
    return extract_article_entities(article.title, texts, extractor=entities)


def split_paragraphs(article: Article, entities: str = "rules",
                     named: Sequence[Entities] | None = None) -> list[Paragraph]:
    """The article's paragraphs in reading order; headings become their `section`.

    Each paragraph also names the people, places and organisations it mentions:
    `named` if given (one per paragraph, as `article_entities` finds them, made
    canonical across the archive by a `Canonicalizer`), else those that the
    `entities` extractor finds in this article alone.
    """
    mentions = article_entities(article, entities) if named is None else named
    paragraphs: list[Paragraph] = []
    section = ""
    for block in article.blocks:
        if block.role == "heading":
            section = block.text
            continue
        position = len(paragraphs) + 1
        named = mentions[position - 1]
        paragraphs.append(Paragraph(
            id=paragraph_id(article.id, position),
            article_id=article.id,
            title=article.title,
            author=article.author,
            source=article.source,
            published=article.published,
            url=article.url,
            topic=article.topic,
            section=section,
            position=position,
            kind=paragraph_kind(block.text, block.role),
            text=block.text,
            credit=article.credit,
            origin=article.origin,
            article_hash=article.content_hash,
            people=named.people,
            places=named.places,
            organisations=named.organisations,
        ))
    return paragraphs
