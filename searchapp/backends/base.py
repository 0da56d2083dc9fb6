"""The seam between searchapp and a search engine: what web and CLI ask of any backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..articles import Article
from ..search.records import ArticleView, Limits, SearchPage, SearchRequest

Progress = Callable[[Article], None]


@dataclass
class BuildSummary:
    """What a build or an update did."""

    articles: int = 0
    paragraphs: int = 0
    added: int = 0
    replaced: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    path: str = ""  # where: an index folder, or a cluster's alias

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class Backend(Protocol):
    """One search engine holding the paragraph documents.

    The read side answers with the records of `searchapp.search`; the write
    side builds a complete new index and switches to it atomically, or
    updates the live one. Errors the user can act on are `searchapp.errors`.
    """

    limits: Limits

    def search(self, request: SearchRequest) -> SearchPage: ...

    def article(self, article_id: str, q: str = "") -> ArticleView: ...

    def overview(self) -> SearchPage:
        """Every document, the facet values with counts."""

    def info(self) -> dict[str, object]:
        """documents, built_at, updated_at, generation: for /healthz."""

    def warm(self) -> None:
        """Open the index now, so the first visitor does not wait."""

    def close(self) -> None: ...

    def build(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0,
              procs: int | None = None) -> BuildSummary: ...

    def update(self, sources: Iterable[Path], progress: Progress | None = None, wait: float = 0.0) -> BuildSummary: ...

    def stats(self) -> dict[str, object]:
        """What `searchapp index stats` shows: where, paragraphs, size, times."""
