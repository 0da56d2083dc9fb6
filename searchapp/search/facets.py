"""Facets: which fields, how values read, and counting them over a set of documents.

Each facet field's column is read once per version of the index into arrays:
every value gets a code (in the values' sorted order), every document the
codes of its values. Counting a facet over the matching documents is then one
`bincount` over their codes, in C, however many values the facet has. Values
of different facets combine with AND; values of one facet with OR, and a
facet's own counts ignore its own selection (disjunctive counts), as in
Algolia or Meilisearch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
from whoosh.reading import IndexReader

from .matching import EMPTY_DOCS, intersect, union_docs

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


def column_values(reader: IndexReader, fieldname: str) -> list:
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


class Counts:
    """How many of some documents have each value of one facet."""

    def __init__(self, column: FacetColumn, per_code: np.ndarray):
        self._column, self._per_code = column, per_code
        self._present = np.flatnonzero(per_code)

    def __len__(self) -> int:
        """How many values have a document."""
        return len(self._present)

    def get(self, value: str, default: int = 0) -> int:
        code = self._column.codes.get(value)
        return int(self._per_code[code]) if code is not None else default

    def ordered(self, top: int, by_value: bool) -> list[tuple[str, int]]:
        """The `top` values with most documents (ties in value order), or (`by_value`) the last values."""
        present = self._present
        if by_value:
            chosen = present[::-1][:top]
        else:
            counts = self._per_code[present]
            if len(present) > top:
                least = np.partition(counts, len(counts) - top)[len(counts) - top]
                present, counts = present[counts >= least], counts[counts >= least]
            chosen = present[np.lexsort((present, -counts))][:top]
        return [(self._column.values[code], int(self._per_code[code])) for code in chosen]


class FacetColumn:
    """One facet's values: each document's value codes, as arrays.

    A document's codes are `codes_of[starts[doc]:starts[doc + 1]]` (several
    for a multi-valued facet, none when it has no value).
    """

    def __init__(self, per_document: list[tuple[str, ...]]):
        self.values = sorted({value for values in per_document for value in values})
        self.codes = {value: code for code, value in enumerate(self.values)}
        lengths = np.fromiter((len(values) for values in per_document), dtype=np.int64, count=len(per_document))
        self.starts = np.zeros(len(per_document) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.starts[1:])
        codes = self.codes
        self.codes_of = np.fromiter((codes[v] for values in per_document for v in values), dtype=np.int32,
                                    count=int(self.starts[-1]))
        self._single = None  # each document's one code, or -1; when none has more than one
        if not len(lengths) or lengths.max() <= 1:
            self._single = np.full(len(per_document), -1, dtype=np.int32)
            self._single[lengths == 1] = self.codes_of

    def single_codes(self) -> np.ndarray:
        """Each document's code (-1: no value), for a facet with at most one value per document."""
        if self._single is None:
            raise ValueError("a document has several values of this facet")
        return self._single

    def count(self, docs: np.ndarray) -> Counts:
        if self._single is not None:
            picked = self._single[docs]
            picked = picked[picked >= 0]
        else:
            starts = self.starts[docs]
            lengths = self.starts[docs + 1] - starts
            ends = np.cumsum(lengths)
            picked = self.codes_of[np.repeat(starts - ends + lengths, lengths) + np.arange(ends[-1] if len(ends) else 0)]
        return Counts(self, np.bincount(picked, minlength=len(self.values)))


def _per_document(reader: IndexReader, spec: FacetSpec) -> list[tuple[str, ...]]:
    values = column_values(reader, spec.field)
    if spec.multi:
        return [tuple(v.split(",")) if v else () for v in values]
    return [(v,) if v else () for v in values]


class FacetColumns:
    """The facet values of every document of one version of the index.

    Read all at once from a reader, then shared by every thread's searcher of
    the same version (their document numbers are the same). Which documents
    have a value comes from the index's own postings, not from here.
    """

    def __init__(self, reader: IndexReader):
        self._columns = {spec.field: FacetColumn(_per_document(reader, spec)) for spec in FACETS}

    def count(self, spec: FacetSpec, docs: np.ndarray) -> Counts:
        return self._columns[spec.field].count(docs)

    def codes(self, spec: FacetSpec) -> FacetColumn:
        return self._columns[spec.field]


def selected_terms(spec: FacetSpec, value: str, months: Callable[[str], list[str]]) -> list[str]:
    """The index terms a selected value stands for: a year selects its months."""
    if spec.name == "published" and len(value) == 4 and value.isdigit():
        return months(value)
    return [value]


def selection_filters(
    selected: Mapping[str, tuple[str, ...]],
    term_docs: Callable[[str, str], np.ndarray],
    months: Callable[[str], list[str]],
    size: int,
) -> dict[str, np.ndarray]:
    """Each facet with a selection -> the documents its selection allows (its values' union)."""
    filters = {}
    for name, values in selected.items():
        spec = FACETS_BY_NAME[name]
        terms = [term for value in values for term in selected_terms(spec, value, months)]
        filters[name] = union_docs([term_docs(spec.field, term) for term in terms], size) if terms else EMPTY_DOCS
    return filters


def count_facets(
    columns: FacetColumns,
    matching: np.ndarray,
    filters: Mapping[str, np.ndarray],
    selected: Mapping[str, tuple[str, ...]],
    size: int,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    top: int = TOP_VALUES,
) -> list[Facet]:
    """Counts of every facet over the matching documents, disjunctive per facet."""
    all_filtered = intersect(matching, list(filters.values()), size)
    facets = []
    for spec in FACETS:
        if spec.name in filters:
            docs = intersect(matching, [docs for name, docs in filters.items() if name != spec.name], size)
        else:
            docs = all_filtered
        counts = columns.count(spec, docs)
        facets.append(_facet(spec, counts, selected.get(spec.name, ()), (labels or {}).get(spec.name, {}), top))
    return facets


def _facet(
    spec: FacetSpec, counts: Counts, selected: tuple[str, ...], labels: Mapping[str, str], top: int
) -> Facet:
    shown = counts.ordered(top, by_value=spec.name == "published")
    shown_values = {value for value, _ in shown}
    shown += [(value, counts.get(value, 0)) for value in selected if value not in shown_values]
    values = tuple(
        FacetValue(value, labels.get(value) or value_label(spec, value), count, value in selected)
        for value, count in shown
    )
    return Facet(spec.name, spec.label, values, more=max(0, len(counts) - top))
