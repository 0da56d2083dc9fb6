"""The service's own build, analysis and search, as the relevance benchmarks call them.

The backend comes from the settings, as the CLI opens it (`open_backend`); this is the one
place in bench/ that names it, and the only one that reaches into the embedded engine (for
its analyser, which the ranking experiments use).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from searchapp.backends import Backend, BuildSummary, open_backend
from searchapp.backends.embedded.analysis import NewsAnalyzer
from searchapp.config import load_settings

_ANALYZER = NewsAnalyzer()


def open_search(index: Path) -> Backend:
    """The backend as `searchapp search` opens it: the configured one and bounds, no result cache."""
    return open_backend(load_settings(), index, cache_size=0)


def build(index: Path, sources: Sequence[Path]) -> BuildSummary:
    """A new index of `sources` at `index`, built as `searchapp index build` builds it."""
    backend = open_search(index)
    try:
        return backend.build(list(sources))
    finally:
        backend.close()


def analysed(text: str) -> list[str]:
    """The index terms of `text` as the service's title and text fields analyse it (stop words out, stemmed)."""
    return [token.text for token in _ANALYZER(text)]
