"""The backend behaviour suite: every test here runs once per backend, with the same assertions.

- `backend`: `embedded` (an index folder) or `opensearch` (an alias on the session's one-node
  cluster), each built once with its own build code from `backend_sources`; do not modify it.
- `empty_backend`: a backend of the same kind with nothing built yet, this test's own.
- `backend_with(options)`: the same, with these `QueryOptions` (typos, synonyms).
- `run(backend, q, …)`, `ids(page)`, `counts(page, facet)`: helpers (module `backend_suite`).

The OpenSearch backend needs the `opensearch` extra and a cluster (`opensearch_url`): without
them its half is skipped, except under CI=true, where that fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from searchapp.backends import Backend
from searchapp.backends.embedded import EmbeddedBackend
from searchapp.search.tolerance import QueryOptions

BACKENDS = ["embedded", "opensearch"]


def _opensearch(request: pytest.FixtureRequest, alias: str, options: QueryOptions) -> Backend:
    try:
        from searchapp.backends.opensearch import OpenSearchBackend, OpenSearchSettings
    except ImportError as error:  # the `opensearch` extra is not installed
        if os.environ.get("CI") == "true":
            pytest.fail(f"the OpenSearch backend cannot be imported: {error}")
        pytest.skip(f"the OpenSearch backend needs the `opensearch` extra: {error}")
    url = request.getfixturevalue("opensearch_url")
    return OpenSearchBackend(OpenSearchSettings(urls=(url,), index=alias, timeout=30.0), options=options)


def make_backend(request: pytest.FixtureRequest, kind: str, folder: Path,
                 options: QueryOptions = QueryOptions()) -> Backend:
    if kind == "embedded":
        return EmbeddedBackend(folder / "index", cache_size=0, options=options)
    return _opensearch(request, f"suite-{uuid.uuid4().hex[:10]}", options)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, backend_sources: list[Path],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    built = make_backend(request, request.param, tmp_path_factory.mktemp(f"suite-{request.param}"))
    built.build(backend_sources)
    yield built
    built.close()


@pytest.fixture(params=BACKENDS)
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    fresh = make_backend(request, request.param, tmp_path)
    yield fresh
    fresh.close()


@pytest.fixture(params=BACKENDS)
def backend_with(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[QueryOptions], Backend]]:
    made: list[Backend] = []

    def make(options: QueryOptions) -> Backend:
        made.append(make_backend(request, request.param, tmp_path / f"backend-{len(made)}", options))
        return made[-1]

    yield make
    for fresh in made:
        fresh.close()
