"""Search engines behind one protocol (`base.Backend`): the embedded index, or an OpenSearch cluster."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..search.records import Limits
from ..search.tolerance import QueryOptions, Synonyms, TypoPolicy
from .base import Backend, BuildSummary, Progress

__all__ = ["Backend", "BuildSummary", "Progress", "limits_of", "open_backend"]


def limits_of(settings: Settings) -> Limits:
    return Limits(settings.max_query_length, settings.max_page, settings.max_per_page, settings.search_time_limit)


def open_backend(settings: Settings, index: Path | str | None = None, cache_size: int | None = None) -> Backend:
    """The backend the settings choose (`index` overrides the index folder).

    An OpenSearch cluster is named by `SEARCHAPP_OPENSEARCH_*` (see `backends.opensearch`); bad
    values, or an index folder given for it, raise ValueError.
    """
    options = QueryOptions(TypoPolicy.parse(settings.typos), Synonyms.load(settings.synonyms))
    if settings.backend == "opensearch":
        if index is not None:
            raise ValueError("--index names an index folder; for OpenSearch set SEARCHAPP_OPENSEARCH_INDEX")
        from .opensearch import OpenSearchBackend  # the `opensearch` extra

        return OpenSearchBackend.from_env(limits_of(settings), settings.entities, options, settings.entity_aliases)
    from .embedded import EmbeddedBackend

    return EmbeddedBackend(index or settings.index, limits_of(settings),
                           settings.cache_size if cache_size is None else cache_size, settings.entities, options,
                           settings.entity_aliases)
