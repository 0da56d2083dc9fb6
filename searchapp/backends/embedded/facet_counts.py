"""Counting facets over a set of documents, on arrays.

Each facet field's column is read once per version of the index into arrays:
every value gets a code (in the values' sorted order), every document the
codes of its values. Counting a facet over the matching documents is then one
`bincount` over their codes, in C, however many values the facet has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from whoosh.reading import IndexReader

from ...search.facets import FACETS, FACETS_BY_NAME, TOP_VALUES, Facet, FacetField, facet_values
from .matching import EMPTY_DOCS, intersect, union_docs


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
            offsets = np.repeat(starts - ends + lengths, lengths)
            picked = self.codes_of[offsets + np.arange(ends[-1] if len(ends) else 0)]
        return Counts(self, np.bincount(picked, minlength=len(self.values)))


class FacetColumns:
    """The facet values of every document of one version of the index.

    Read all at once from a reader, then shared by every thread's searcher of
    the same version (their document numbers are the same). Which documents
    have a value comes from the index's own postings, not from here.
    """

    def __init__(self, reader: IndexReader):
        self._columns = {
            spec.field: FacetColumn([spec.values_of(v) for v in column_values(reader, spec.field)]) for spec in FACETS
        }

    def count(self, spec: FacetField, docs: np.ndarray) -> Counts:
        return self._columns[spec.field].count(docs)

    def codes(self, spec: FacetField) -> FacetColumn:
        return self._columns[spec.field]


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
        terms = [term for value in values for term in spec.selection_terms(value, months)]
        filters[name] = union_docs([term_docs(spec.field, term) for term in terms], size) if terms else EMPTY_DOCS
    return filters


def count_facets(
    columns: FacetColumns,
    matching: np.ndarray,
    filters: Mapping[str, np.ndarray],
    selected: Mapping[str, tuple[str, ...]],
    size: int,
    labels: Mapping[str, Callable[[str], str]] | None = None,
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
        facets.append(_facet(spec, counts, selected.get(spec.name, ()), (labels or {}).get(spec.name), top))
    return facets


def _facet(spec: FacetField, counts: Counts, selected: tuple[str, ...], label: Callable[[str], str] | None,
           top: int) -> Facet:
    shown = counts.ordered(top, by_value=spec.by_value)
    shown += [(value, counts.get(value, 0)) for value in selected if value not in {v for v, _ in shown}]
    return facet_values(spec, shown, selected, label, more=max(0, len(counts) - top))
