"""The Whoosh schema of a paragraph document, made from the field registry (`searchapp.fields`)."""

from __future__ import annotations

from whoosh import fields as whoosh_fields

from ...fields import FIELDS, ID, KEYWORDS, NUMBER, STORED, TEXT, Field
from .analysis import NewsAnalyzer


def _field_type(field: Field) -> whoosh_fields.FieldType:
    if field.kind == TEXT:
        return whoosh_fields.TEXT(stored=field.stored, analyzer=NewsAnalyzer(), field_boost=field.boost)
    if field.kind == ID:
        return whoosh_fields.ID(stored=field.stored, unique=field.unique, sortable=field.column)
    if field.kind == KEYWORDS:  # comma-separated values, each a term, the whole in a column
        return whoosh_fields.KEYWORD(stored=field.stored, sortable=field.column, commas=True, lowercase=False,
                                     scorable=False)
    if field.kind == NUMBER:
        return whoosh_fields.NUMERIC(stored=field.stored, sortable=field.column)
    if field.kind == STORED:
        return whoosh_fields.STORED()
    raise ValueError(f"field {field.name!r} has an unknown kind {field.kind!r}")


def make_schema() -> whoosh_fields.Schema:
    return whoosh_fields.Schema(**{field.name: _field_type(field) for field in FIELDS})
