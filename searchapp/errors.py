"""Exceptions the web and the CLI both show as one clear message (a page with a status, or a line)."""

from __future__ import annotations

from pathlib import Path


class SearchIndexError(Exception):
    """The index cannot answer (none, locked, another format, engine unreachable): a 503 on the web."""


class IndexMissing(SearchIndexError):
    def __init__(self, path: Path | str):
        super().__init__(f"there is no index at {path}: run `searchapp index build` first")


class IndexLocked(SearchIndexError):
    def __init__(self, path: Path | str, holder: str):
        super().__init__(
            f"another build or update is running on {path} ({holder}); "
            "wait for it to finish, or pass --wait SECONDS"
        )


class IndexFormatError(SearchIndexError):
    """An index written in another format (another version of searchapp, or damaged)."""

    def __init__(self, path: Path | str, found: object, expected: object):
        super().__init__(
            f"the index at {path} has format {found}, this searchapp reads format {expected}: "
            "rebuild it with `searchapp index build`"
        )


class EngineUnavailable(SearchIndexError):
    """The search engine (a cluster) cannot be reached or failed to answer."""


class InvalidSearch(ValueError):
    """Search parameters that cannot be understood; the message says what to fix (a 400)."""


class ArticleNotFound(LookupError):
    def __init__(self, article_id: str):
        super().__init__(f"There is no article {article_id!r} in the index.")
