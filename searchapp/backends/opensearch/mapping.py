"""The OpenSearch index: analysis, mapping and the document of one paragraph.

`title` and `text` are analysed as English (stop words dropped, Porter stems), like the
embedded index; each has an `exact` subfield (lower-cased words, no stop words dropped, no
stems) for phrases made of common words ("to be or not to be"), for prefixes (`electi*` must
see `election`, not its stem) and for queries of common words only. Each field is highlighted
on its own and the marks merged (see `highlights`). Facet fields are keywords (arrays for fields
of several values); the rest of a document is kept in `_source`.
"""

from __future__ import annotations

from ...fields import ENTITY_FIELDS, FIELDS, FIELDS_BY_NAME, ID, KEYWORDS, NUMBER, STORED, TEXT, TOPIC_SEPARATOR
from ...paragraphs import Paragraph

# Lucene's English stop words (EnglishAnalyzer): named here so that the query translation knows
# which words the English fields drop.
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)

MAX_RESULT_WINDOW = 100 * 1000 + 100  # the deepest page searchapp serves: per_page 100, page 1000
# article_hash is only given back by the embedded index; an update here reads it in an aggregation.
AGGREGATED = {"article_hash"}

ANALYSIS = {
    "filter": {
        "english_stop": {"type": "stop", "stopwords": sorted(STOP_WORDS)},
        "english_possessive": {"type": "stemmer", "language": "possessive_english"},
        "english_stemmer": {"type": "stemmer", "language": "english"},
    },
    "analyzer": {
        "news_english": {
            "type": "custom", "tokenizer": "standard",
            "filter": ["english_possessive", "lowercase", "english_stop", "english_stemmer"],
        },
        "news_exact": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
    },
}


def _text_field() -> dict[str, object]:
    return {
        "type": "text", "analyzer": "news_english",
        "fields": {"exact": {"type": "text", "analyzer": "news_exact"}},
    }


def _unindexed() -> dict[str, object]:
    return {"type": "keyword", "index": False, "doc_values": False}


def _field(name: str, kind: str) -> dict[str, object]:
    if kind == TEXT:
        return _text_field()
    if kind in (ID, KEYWORDS) or name in AGGREGATED:
        return {"type": "keyword"}  # KEYWORDS: a document holds an array of values
    if kind == NUMBER:
        return {"type": "integer"}
    if kind == STORED:
        return _unindexed()
    raise ValueError(f"no OpenSearch mapping for {name!r}, a field of kind {kind!r}")


MAPPING: dict[str, object] = {
    "dynamic": "strict",
    "properties": {field.name: _field(field.name, field.kind) for field in FIELDS},
}


def index_body(shards: int, meta: dict[str, object]) -> dict[str, object]:
    """Settings and mappings of a new physical index, set up for a bulk build.

    No refreshes and no replicas while it fills; `SERVING_SETTINGS` turn both on.
    """
    return {
        "settings": {
            "index": {
                "number_of_shards": shards, "number_of_replicas": 0, "refresh_interval": "-1",
                "max_result_window": MAX_RESULT_WINDOW,
            },
            "analysis": ANALYSIS,
        },
        "mappings": {**MAPPING, "_meta": meta},
    }


SERVING_SETTINGS = {"index": {"refresh_interval": "1s", "auto_expand_replicas": "0-1"}}


def document(paragraph: Paragraph) -> dict[str, object]:
    """The OpenSearch document of one paragraph: multi-valued fields as arrays, no empty values."""
    doc = paragraph.to_dict()
    doc["month"] = paragraph.published[:7]
    doc["topic"] = [t.strip() for t in paragraph.topic.split(TOPIC_SEPARATOR) if t.strip()]
    for name in ENTITY_FIELDS:
        doc[name] = [value for value in getattr(paragraph, name) if value.strip()]
    return {key: value for key, value in doc.items() if value not in ("", [], ()) and key in FIELDS_BY_NAME}
