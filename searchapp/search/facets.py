"""Facets: which fields, how values read, and counting them over a set of documents.

Counting reads each facet field's column once per searcher into a Python list
(document number -> value), so one pass over the matching documents counts a
facet, however many values it has. Values of different facets combine with
AND; values of one facet with OR, and a facet's own counts ignore its own
selection (disjunctive counts), as in Algolia or Meilisearch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from whoosh.reading import IndexReader

TOP_VALUES = 10


@dataclass(frozen=True)
class FacetSpec:
    name: str  # the URL parameter
    field: str  # the index field
    label: str
    multi: bool = False  # several values per paragraph, comma-separated


FACETS: tuple[FacetSpec, ...] = (
    FacetSpec("section", "section", "Section"),
    FacetSpec("kind", "kind", "Kind"),
    FacetSpec("author", "author", "Author"),
    FacetSpec("source", "source", "Source"),
    FacetSpec("topic", "topic", "Topic", multi=True),
    FacetSpec("people", "people", "People", multi=True),
    FacetSpec("places", "places", "Places", multi=True),
    FacetSpec("organisations", "organisations", "Organisations", multi=True),
    FacetSpec("published", "month", "Published"),
    FacetSpec("article", "article_id", "Article"),
)
FACETS_BY_NAME = {spec.name: spec for spec in FACETS}

KIND_LABELS = {"body": "Body text", "quote": "Quote", "related": "Related article"}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: tuple[FacetValue, ...]
    more: int = 0  # values not shown

    @property
    def selected(self) -> tuple[FacetValue, ...]:
        return tuple(v for v in self.values if v.selected)


def month_label(value: str) -> str:
    """`2025-02` as `February 2025`; a bare year as itself."""
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1).strftime("%B %Y")
    except ValueError:
        return value


def value_label(spec: FacetSpec, value: str) -> str:
    if spec.name == "kind":
        return KIND_LABELS.get(value, value)
    if spec.name == "published":
        return month_label(value)
    return value


def _column_values(reader: IndexReader, fieldname: str) -> list:
    """Every document's value of a column field, in document-number order.

    Read segment by segment: a segment whose documents all lack the field has
    no column, and Whoosh's combined column reader would leave it out.
    """
    values: list = []
    for segment, offset in reader.leaf_readers():
        values.extend([""] * (offset - len(values)))
        if segment.has_column(fieldname):
            values.extend(segment.column_reader(fieldname))
        else:
            values.extend([""] * segment.doc_count_all())
    return values


def _facet_values(reader: IndexReader, spec: FacetSpec) -> list:
    values = _column_values(reader, spec.field)
    return [tuple(v.split(",")) if v else () for v in values] if spec.multi else values


class FacetColumns:
    """The facet values of every document of one version of the index.

    Read all at once from a reader, then shared by every thread's searcher of
    the same version (their document numbers are the same). Which documents
    have a value comes from the index's own postings, not from here.
    """

    def __init__(self, reader: IndexReader):
        self._values: dict[str, list] = {spec.field: _facet_values(reader, spec) for spec in FACETS}

    def values(self, spec: FacetSpec) -> list:
        return self._values[spec.field]

    def count(self, spec: FacetSpec, docs: Iterable[int]) -> Counter:
        values = self.values(spec)
        if spec.multi:
            return Counter(single for docnum in docs for single in values[docnum])
        counts = Counter(values[docnum] for docnum in docs)
        counts.pop("", None)
        return counts


def selected_terms(spec: FacetSpec, value: str, months: Callable[[str], list[str]]) -> list[str]:
    """The index terms a selected value stands for: a year selects its months."""
    if spec.name == "published" and len(value) == 4 and value.isdigit():
        return months(value)
    return [value]


def selection_filters(
    selected: Mapping[str, tuple[str, ...]],
    term_docs: Callable[[str, str], frozenset[int]],
    months: Callable[[str], list[str]],
) -> dict[str, frozenset[int]]:
    """Each facet with a selection -> the documents its selection allows (its values' union)."""
    filters = {}
    for name, values in selected.items():
        spec = FACETS_BY_NAME[name]
        terms = [term for value in values for term in selected_terms(spec, value, months)]
        filters[name] = frozenset().union(*(term_docs(spec.field, term) for term in terms))
    return filters


def intersect(base: set[int], filters: Iterable[set[int]]) -> set[int]:
    result = base
    for allowed in sorted(filters, key=len):
        result = result & allowed
    return result


def count_facets(
    columns: FacetColumns,
    matching: set[int],
    filters: Mapping[str, set[int]],
    selected: Mapping[str, tuple[str, ...]],
    labels: Mapping[str, Mapping[str, str]] | None = None,
    top: int = TOP_VALUES,
) -> list[Facet]:
    """Counts of every facet over the matching documents, disjunctive per facet."""
    all_filtered = intersect(matching, filters.values())
    facets = []
    for spec in FACETS:
        if spec.name in filters:
            others = [docs for name, docs in filters.items() if name != spec.name]
            docs = intersect(matching, others)
        else:
            docs = all_filtered
        counts = columns.count(spec, docs)
        facets.append(_facet(spec, counts, selected.get(spec.name, ()), (labels or {}).get(spec.name, {}), top))
    return facets


def _facet(
    spec: FacetSpec, counts: Counter, selected: tuple[str, ...], labels: Mapping[str, str], top: int
) -> Facet:
    if spec.name == "published":
        ordered = sorted(counts.items(), key=lambda item: item[0], reverse=True)
    else:
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ordered[:top]
    shown_values = {value for value, _ in shown}
    shown += [(value, counts.get(value, 0)) for value in selected if value not in shown_values]
    values = tuple(
        FacetValue(value, labels.get(value) or value_label(spec, value), count, value in selected)
        for value, count in shown
    )
    return Facet(spec.name, spec.label, values, more=max(0, len(ordered) - top))
