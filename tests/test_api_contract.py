"""The JSON API against its own OpenAPI description, by schemathesis through the WSGI interface.

Schemathesis reads `/static/openapi.json` from the app and sends every operation requests
that fit the description (they must be accepted, with a documented status, content type and
body) and requests that do not (they must be refused with a 4xx), plus methods the
description does not list (405 with `Allow`). A fixed seed and `deterministic` generation
make the run the same every time; the number of examples bounds its length.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from webapp import build_web_index, make_app

SPEC = "/static/openapi.json"
CONFIG = {
    "seed": 20251201,
    "generation": {"mode": "all", "max-examples": 100, "deterministic": True, "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
    # Narrower than schemathesis' defaults (which also let 3xx, 401, 403, 409 and 5xx pass). 414 on
    # both sides: a URL over 8,000 bytes is refused whatever its parameters, a bound no parameter's
    # schema can state (the description says it in words); 404 is an article id that is not there.
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["200", "404", "414"]},
        "negative_data_rejection": {"expected-statuses": ["400", "404", "414"]},
    },
}
# The schema is loaded at import, as schemathesis' pytest integration parametrizes at collection
# (its fixture-based `from_fixture` fails on pytest 9.2, which dropped `Item._nodeid`). So the app
# exists before any fixture runs; `web_index_built` builds its index (opened at the first request).
INDEX_ROOT = Path(tempfile.gettempdir()) / f"searchapp-contract-{os.getpid()}"
APP = make_app(INDEX_ROOT / "index")


def _load_schema():
    # `from_wsgi` would leave the static file's handle open (a ResourceWarning); read it here.
    with APP.test_client().get(SPEC) as response:
        assert response.status_code == 200
        spec = response.get_json()
    loaded = schemathesis.openapi.from_dict(spec, config=SchemathesisConfig.from_dict(CONFIG))
    loaded.app, loaded.location = APP, SPEC
    return loaded


schema = _load_schema()


@pytest.fixture(scope="module", autouse=True)
def web_index_built():
    build_web_index(INDEX_ROOT)
    yield
    shutil.rmtree(INDEX_ROOT, ignore_errors=True)


@schema.parametrize()
def test_the_api_keeps_its_openapi_contract(case):
    case.call_and_validate()


ARTICLE = "syria-russia-strategic-ties-2025-02-12"
LONG = "x" * 8000
# Per operation: a good request, one with a bad parameter, one with an over-long URL.
OPERATIONS = {
    "/api/search": ("/api/search?q=putin", "/api/search?q=putin&group=true", "/api/search?q=" + LONG),
    "/api/articles/{article_id}": (f"/api/articles/{ARTICLE}", f"/api/articles/{ARTICLE}?colour=red",
                                   f"/api/articles/{ARTICLE}?q=" + LONG),
    "/healthz": ("/healthz", None, "/healthz?x=" + LONG),
}
DOCUMENTED = [checks.status_code_conformance, checks.content_type_conformance,
              checks.response_headers_conformance, checks.response_schema_conformance]


def _get(app, *urls):
    client = app.test_client()
    return [client.get(url) for url in urls if url]


def _fail(*args, **kwargs):
    raise RuntimeError("an unexpected error")


@pytest.mark.parametrize("path", OPERATIONS)
def test_every_status_the_api_answers_is_documented(path, monkeypatch, tmp_path):
    """Answers the generated requests rarely reach (no index, rate limit, a crash, a long URL):
    each status must be in the description, with its content type, headers and body."""
    ok, bad, too_long = OPERATIONS[path]
    responses = _get(APP, ok, bad, too_long, "/api/articles/no-such-article" if "{" in path else None)
    responses += _get(make_app(tmp_path / "no-index"), ok)
    responses += _get(make_app(INDEX_ROOT / "index", rate_limit=1), ok, ok)
    broken = make_app(INDEX_ROOT / "index")
    for method in ("search", "article", "info"):
        monkeypatch.setattr(broken.extensions["searchapp.search"], method, _fail)
    responses += _get(broken, ok)
    case = schema[path]["GET"].Case(path_parameters={"article_id": ARTICLE} if "{" in path else None)
    for response in responses:
        case.validate_response(response, checks=DOCUMENTED)
    wanted = {200, 400, 404, 414, 429, 500, 503} if "{" in path else {200, 400, 414, 429, 500, 503}
    if path == "/healthz":
        wanted -= {400, 429}  # it takes no parameters and is not rate-limited
    assert {response.status_code for response in responses} == wanted
