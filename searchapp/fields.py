"""The one registry of a paragraph document's fields: how each is kept, searched and shown.

Every engine builds its schema or mapping from here, the query parser takes
its field prefixes from here, and the facets (`search/facets.py`) name their
fields from here, so adding a field is one line.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, ID, KEYWORDS, NUMBER, STORED = "text", "id", "keywords", "number", "stored"
TOPIC_SEPARATOR = ";"  # between topics in the sources
WORD_PATTERN = r"\w+(?:\.\w+)*"  # a word, in every engine: `al-Assad's` is al / assad / s, `U.S.` one word


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # TEXT: analysed words; ID: one exact value; KEYWORDS: several exact values; NUMBER; STORED only
    stored: bool = True  # given back with a hit
    column: bool = False  # one value per document kept for facets and sorts
    boost: float = 1.0  # weight of a match in this field (TEXT)
    in_queries: bool = False  # may be named in a query, as `author:AFP`
    unique: bool = False


FIELDS: tuple[Field, ...] = (
    Field("id", ID, unique=True),
    Field("article_id", ID, column=True, in_queries=True),
    Field("title", TEXT, boost=2.0, in_queries=True),
    Field("text", TEXT, in_queries=True),
    Field("author", ID, column=True, in_queries=True),
    Field("source", ID, column=True, in_queries=True),
    Field("topic", KEYWORDS, column=True, in_queries=True),
    Field("people", KEYWORDS, column=True, in_queries=True),
    Field("places", KEYWORDS, column=True, in_queries=True),
    Field("organisations", KEYWORDS, column=True, in_queries=True),
    Field("section", ID, column=True, in_queries=True),
    Field("kind", ID, column=True, in_queries=True),
    Field("published", ID, column=True, in_queries=True),
    Field("month", ID, stored=False, column=True),
    Field("position", NUMBER, column=True),
    Field("url", STORED),
    Field("credit", STORED),
    Field("origin", ID),
    Field("article_hash", STORED),
)
FIELDS_BY_NAME = {field.name: field for field in FIELDS}

SEARCHED = tuple(field.name for field in FIELDS if field.kind == TEXT)  # searched by a plain word
QUERY_FIELDS = tuple(field.name for field in FIELDS if field.in_queries)
ENTITY_FIELDS = ("people", "places", "organisations")


def joined(values) -> str:
    """Several values as one KEYWORDS value: comma-separated, commas inside values made spaces."""
    return ",".join(value.replace(",", " ").strip() for value in values if value.strip())


def document_fields(paragraph) -> dict[str, object]:
    """A paragraph's values of every field, empty ones left out (a `Paragraph`)."""
    doc = paragraph.to_dict()
    doc["topic"] = joined(paragraph.topic.split(TOPIC_SEPARATOR))
    for name in ENTITY_FIELDS:
        doc[name] = joined(getattr(paragraph, name))
    return stored_document({key: value for key, value in doc.items() if value != "" and key in FIELDS_BY_NAME})


def stored_document(stored: dict[str, object]) -> dict[str, object]:
    """A document's values of every field from its stored ones: the fields that are not stored
    are made from those that are (an index's segments are merged from their stored fields)."""
    published = str(stored.get("published", ""))
    return {**stored, "month": published[:7]} if published[:7] else dict(stored)
