"""Helpers of the backend behaviour suite."""

from __future__ import annotations

from searchapp.backends import Backend
from searchapp.search import make_request
from searchapp.search.records import SearchPage

ARTICLE = "syria-russia-strategic-ties-2025-02-12"


def run(backend: Backend, q: str = "", per_page: int = 10, typing: bool = True, **options) -> SearchPage:
    """A search as the web asks it: `typing` as the page sends it while one types."""
    filters = {k: list(v) for k, v in options.items() if k not in ("sort", "page", "group")}
    request = make_request(q, filters, per_page=per_page, sort=options.get("sort"), page=options.get("page"),
                           group=options.get("group"))
    return backend.search(request.with_changes(typing=typing))


def ids(page: SearchPage) -> list[str]:
    """The hits matching all the words (not those a short page is filled up with)."""
    return [hit.id for hit in page.hits if not hit.partial]


def found(backend: Backend, q: str, **options) -> set[str]:
    """Every paragraph a submitted search finds with all its words: a set, as scores differ by backend."""
    return set(ids(run(backend, q, per_page=100, typing=False, **options)))


def counts(page: SearchPage, name: str) -> dict[str, int]:
    return {v.value: v.count for f in page.facets if f.name == name for v in f.values}
