"""The service's own build, analysis and search, as the relevance benchmarks call them.

The one place in bench/ that imports from the index module: the backend refactor moves it to
`searchapp.backends.embedded`, and only this import changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from searchapp.config import load_settings
from searchapp.indexing import BuildSummary, build_index, stemming_analyzer
from searchapp.search import Limits, Search


_ANALYZER = stemming_analyzer()


def build(index: Path, sources: Sequence[Path]) -> BuildSummary:
    """A new index of `sources` at `index`, built as `searchapp index build` builds it."""
    return build_index(index, list(sources))


def analysed(text: str) -> list[str]:
    """The index terms of `text` as the service's title and text fields analyse it (stop words out, stemmed)."""
    return [token.text for token in _ANALYZER(text)]


def open_search(index: Path) -> Search:
    """A `Search` as the CLI opens one: the configured bounds, no result cache."""
    settings = load_settings()
    limits = Limits(settings.max_query_length, settings.max_page, settings.max_per_page, settings.search_time_limit)
    return Search(index, limits, cache_size=0)
