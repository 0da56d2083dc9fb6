"""OpenSearch-only fixtures on the session's cluster (`opensearch_url`, tests/conftest.py).

- `os_backend`: an `OpenSearchBackend` on an alias built once from `backend_sources`; do not modify it.
- `os_settings`: settings for a fresh alias of this test's own, to build, update or break.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchapp.backends.opensearch import OpenSearchBackend, OpenSearchSettings


def settings_for(url: str, alias: str) -> OpenSearchSettings:
    return OpenSearchSettings(urls=(url,), index=alias, timeout=30.0)


@pytest.fixture(scope="session")
def os_backend(opensearch_url: str, backend_sources: list[Path]) -> Iterator[OpenSearchBackend]:
    backend = OpenSearchBackend(settings_for(opensearch_url, "searchapp-shared"))
    backend.build(backend_sources)
    yield backend
    backend.close()


@pytest.fixture
def os_settings(opensearch_url: str) -> OpenSearchSettings:
    """Settings for an alias no other test uses."""
    return settings_for(opensearch_url, f"t-{uuid.uuid4().hex[:10]}")
