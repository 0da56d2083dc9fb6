"""Connection settings (`SEARCHAPP_OPENSEARCH_*`), the client, and OpenSearch's errors as ours."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors

from ...errors import EngineUnavailable, IndexMissing, SearchIndexError

log = logging.getLogger(__name__)
T = TypeVar("T")

PREFIX = "SEARCHAPP_OPENSEARCH_"


class ClusterUnavailable(EngineUnavailable):
    """The cluster cannot be reached, or answered with a server error (the web answers 503)."""


class ClusterRefused(SearchIndexError):
    """The cluster refused a request of ours: bad credentials, no permission, a broken mapping."""


@dataclass(frozen=True)
class OpenSearchSettings:
    urls: tuple[str, ...] = ("http://127.0.0.1:9200",)
    user: str = ""
    password: str = ""
    ca_file: str = ""
    index: str = "searchapp"  # the alias searches go to; physical indices are `<index>-<timestamp>`
    shards: int = 1
    timeout: float = 10.0  # seconds for any request but bulk writes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OpenSearchSettings:
        """Settings from `SEARCHAPP_OPENSEARCH_URL` (comma-separated node URLs), `_USER`, `_PASSWORD`,
        `_CA_FILE`, `_INDEX`, `_SHARDS` and `_TIMEOUT`; bad values raise ValueError."""
        env = os.environ if environ is None else environ
        get = lambda name, default: env.get(PREFIX + name, "").strip() or default  # noqa: E731
        urls = tuple(u.strip().rstrip("/") for u in get("URL", ",".join(cls.urls)).split(",") if u.strip())
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{PREFIX}URL: {url!r} is not an http(s)://host:port URL")
        index = get("INDEX", cls.index)
        if index != index.lower() or not index.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"{PREFIX}INDEX: {index!r} must be lower-case letters, digits, - and _")
        ca_file = get("CA_FILE", "")
        if ca_file and not Path(ca_file).is_file():
            raise ValueError(f"{PREFIX}CA_FILE: there is no file {ca_file!r}")
        try:
            shards, timeout = int(get("SHARDS", "1")), float(get("TIMEOUT", "10"))
        except ValueError as error:
            raise ValueError(f"{PREFIX}SHARDS and {PREFIX}TIMEOUT take numbers: {error}") from None
        return cls(urls, get("USER", ""), get("PASSWORD", ""), ca_file, index, max(1, shards), timeout)

    @property
    def where(self) -> str:
        return ", ".join(self.urls)


def make_client(settings: OpenSearchSettings) -> OpenSearch:
    """A client that spreads requests over the given nodes and fails over between them.

    A request that fails to connect, or whose connection breaks (a node killed mid-request), is
    retried on the next node, and the failed node is left alone for a minute (opensearch-py's dead
    node timeout, doubling while it keeps failing). With several nodes a timeout is retried too (a
    hung node); with one, a retry would only double the wait. Sniffing stays off: the nodes given
    are the ones we may reach (a cluster's published addresses may not be).
    """
    https = any(url.startswith("https:") for url in settings.urls)
    several = len(settings.urls) > 1
    options: dict[str, object] = {
        "timeout": settings.timeout,
        "max_retries": max(1, len(settings.urls) - 1),
        "retry_on_timeout": several,
    }
    if settings.user:
        options["http_auth"] = (settings.user, settings.password)
    if https:
        options.update(use_ssl=True, verify_certs=True, ca_certs=settings.ca_file or None)
    return OpenSearch(hosts=list(settings.urls), **options)


@contextmanager
def translated_errors(settings: OpenSearchSettings) -> Iterator[None]:
    """OpenSearch's exceptions as searchapp's: unreachable or failing cluster, missing index."""
    try:
        yield
    except os_errors.ConnectionError as error:  # also timeouts and TLS failures
        raise ClusterUnavailable(f"OpenSearch at {settings.where} cannot be reached: {_reason(error)}") from error
    except (os_errors.AuthenticationException, os_errors.AuthorizationException) as error:
        raise ClusterRefused(f"OpenSearch at {settings.where} refused our credentials: {_reason(error)}") from error
    except os_errors.NotFoundError as error:
        if _error_type(error) == "index_not_found_exception":
            raise IndexMissing(f"OpenSearch index {settings.index!r} at {settings.where}") from error
        raise
    except os_errors.TransportError as error:
        if isinstance(error.status_code, int) and error.status_code >= 500:
            raise ClusterUnavailable(f"OpenSearch at {settings.where} failed: {_reason(error)}") from error
        raise


def call(settings: OpenSearchSettings, request: Callable[[], T]) -> T:
    with translated_errors(settings):
        return request()


def _error_type(error: os_errors.TransportError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    detail = info.get("error")
    return detail.get("type", "") if isinstance(detail, dict) else ""


def _reason(error: Exception) -> str:
    if isinstance(error, os_errors.TransportError):
        info = error.info if isinstance(error.info, dict) else {}
        detail = info.get("error")
        if isinstance(detail, dict):
            return str(detail.get("reason") or detail.get("type") or error.error)
        return str(error.error)
    return str(error)
