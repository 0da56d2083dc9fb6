"""Facets as classes: which field each reads, how its values read, what a selected value selects.

Each kind of facet (plain value, several values per paragraph, month/year,
article with its title) owns its labels and selection terms (after
Datasette's `facets.py`); engines count them (the embedded engine in
`backends/embedded/facet_counts.py`). Values of different facets combine
with AND; values of one facet with OR, and a facet's own counts ignore its
own selection (disjunctive counts), as in Algolia or Meilisearch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..fields import FIELDS_BY_NAME, KEYWORDS

TOP_VALUES = 10
KIND_LABELS = {"body": "Body text", "quote": "Quote", "related": "Related article"}


class FacetField:
    """A facet over one field with one value per paragraph."""

    by_value = False  # values listed in value order (newest first), not by count

    def __init__(self, name: str, field: str, label: str):
        self.name = name  # the URL parameter
        self.field = field  # the index field
        self.label = label
        self.multi = FIELDS_BY_NAME[field].kind == KEYWORDS  # several values per paragraph

    def value_label(self, value: str) -> str:
        return value

    def selection_terms(self, value: str, months: Callable[[str], list[str]]) -> list[str]:
        """The index terms a selected value stands for."""
        return [value]

    def values_of(self, stored: str) -> tuple[str, ...]:
        """A paragraph's values, from what the index keeps."""
        if not stored:
            return ()
        return tuple(stored.split(",")) if self.multi else (stored,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class KindFacet(FacetField):
    def value_label(self, value: str) -> str:
        return KIND_LABELS.get(value, value)


class MonthFacet(FacetField):
    """Paragraphs by month of publication; a selected year stands for its months."""

    by_value = True

    def value_label(self, value: str) -> str:
        return month_label(value)

    def selection_terms(self, value: str, months: Callable[[str], list[str]]) -> list[str]:
        return months(value) if len(value) == 4 and value.isdigit() else [value]


class ArticleFacet(FacetField):
    """Paragraphs by article, labelled with the article's title (which the engine reads)."""


FACETS: tuple[FacetField, ...] = (
    FacetField("section", "section", "Section"),
    KindFacet("kind", "kind", "Kind"),
    FacetField("author", "author", "Author"),
    FacetField("source", "source", "Source"),
    FacetField("topic", "topic", "Topic"),
    FacetField("people", "people", "People"),
    FacetField("places", "places", "Places"),
    FacetField("organisations", "organisations", "Organisations"),
    MonthFacet("published", "month", "Published"),
    ArticleFacet("article", "article_id", "Article"),
)
FACETS_BY_NAME = {facet.name: facet for facet in FACETS}
ARTICLE = FACETS_BY_NAME["article"]


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class Facet:
    """A facet's counted values, as a search page shows them."""

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


def facet_values(spec: FacetField, shown: list[tuple[str, int]], selected: tuple[str, ...],
                 label: Callable[[str], str] | None = None, more: int = 0) -> Facet:
    """A facet from its counted values (`shown`, in order); selected values without a count are added."""
    shown_values = {value for value, _ in shown}
    shown = shown + [(value, 0) for value in selected if value not in shown_values]
    label = label or spec.value_label
    values = tuple(FacetValue(value, label(value) or value, count, value in selected) for value, count in shown)
    return Facet(spec.name, spec.label, values, more=more)
