"""Response headers and request limits: CSP and friends, CORS for allowed origins, rate limit."""

from __future__ import annotations

import math
import threading
import time
from urllib.parse import quote

from flask import Flask, Response, current_app, jsonify, make_response, request
from werkzeug.exceptions import RequestURITooLarge

from ..config import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
EMBEDDABLE = frozenset({"/embed"})  # the page iframes show; not /embed/demo, which is an ordinary page
# Longest request target (path and query, as sent) the app answers. Below gunicorn's request-line
# limit (set to its maximum, 8190 bytes, by `server.py`), so an over-long URL gets our 414 (JSON
# for the API), not gunicorn's HTML; only a line over 8190 bytes still meets gunicorn's.
MAX_TARGET_BYTES = 8000


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """0 if the client may go ahead (and takes a token), else seconds to wait."""
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return 0
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) > 10_000:
            full = 60.0
            self._buckets = {c: v for c, v in self._buckets.items() if now - v[1] < full}


def _allowed_origin(settings: Settings) -> str | None:
    origin = request.headers.get("Origin", "").rstrip("/")
    return origin if origin and origin in settings.embed_origins else None


def _frame_ancestors(settings: Settings) -> str:
    return " ".join(["'self'", *settings.embed_origins])


def _add_headers(response: Response) -> Response:
    settings: Settings = current_app.extensions["searchapp.settings"]
    embeddable = request.path in EMBEDDABLE
    ancestors = _frame_ancestors(settings) if embeddable else "'self'"
    response.headers.setdefault("Content-Security-Policy", CSP.format(ancestors=ancestors))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if not embeddable:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if request.path.startswith("/api/") or request.path == "/widget.js":
        origin = _allowed_origin(settings)
        response.vary.add("Origin")
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
    return response


def target_bytes(environ: dict) -> int:
    """The length of the request target as sent: the path percent-encoded again, the raw query."""
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/", encoding="latin-1")
    query = environ.get("QUERY_STRING", "")
    return len(path) + (len(query) + 1 if query else 0)


def _limit_url() -> None:
    length = target_bytes(request.environ)
    if length > MAX_TARGET_BYTES:
        raise RequestURITooLarge(f"The URL is {length:,} bytes long; the limit is {MAX_TARGET_BYTES:,}.")


def _limit_rate():
    limiter: RateLimiter | None = current_app.extensions.get("searchapp.rate_limiter")
    if limiter is None or request.path.startswith("/static/") or request.path == "/healthz":
        return None
    wait = limiter.retry_after(request.remote_addr or "unknown")
    if not wait:
        return None
    message = f"Too many requests from your address; try again in {wait} s."
    if request.path.startswith("/api/"):
        response = make_response(jsonify({"error": message, "status": 429}), 429)
    else:
        response = make_response(message, 429)
        response.mimetype = "text/plain"
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    if settings.rate_limit > 0:
        app.extensions["searchapp.rate_limiter"] = RateLimiter(settings.rate_limit)
    app.before_request(_limit_url)
    app.before_request(_limit_rate)
    app.after_request(_add_headers)
