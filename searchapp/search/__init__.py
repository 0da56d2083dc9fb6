"""Searching, independent of the engine: requests and pages, facets, highlighting.

A backend (`searchapp.backends`) answers a `SearchRequest` with a `SearchPage`;
the web layer and the CLI build requests with `make_request` and show pages.
"""

from ..errors import ArticleNotFound, InvalidSearch
from .facets import FACETS, Facet
from .records import SORTS, ArticleView, Hit, Limits, SearchPage, SearchRequest, clean_query_text, make_request

__all__ = [
    "FACETS", "SORTS", "ArticleNotFound", "ArticleView", "Facet", "Hit", "InvalidSearch", "Limits", "SearchPage",
    "SearchRequest", "clean_query_text", "make_request",
]
