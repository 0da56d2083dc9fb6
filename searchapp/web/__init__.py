"""Routes: the search page and its htmx fragment, the article view, the JSON API.

Views are thin: parse the arguments, call `Search`, build one context, and
hand it to `_render`, which picks the full page or the fragment.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from ..backends import Backend, open_backend
from ..config import Settings
from ..errors import ArticleNotFound, EngineUnavailable, InvalidSearch, SearchIndexError
from ..search import SearchRequest
from . import guard
from .params import parse_article_args, parse_search_args
from .views import entity_links, kind_label, request_params, results_context, url_with

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)



def _settings() -> Settings:
    return current_app.extensions["searchapp.settings"]


def _search() -> Backend:
    return current_app.extensions["searchapp.search"]


def _wants_fragment() -> bool:
    """An htmx request gets the fragment; a history restore (a cache miss) gets the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


TYPING_HEADER = "X-Searchapp-Typing"  # app.js: this request was sent while the person types


def _parse_search_args() -> SearchRequest:
    """The request's search parameters, validated; `InvalidSearch` says what is wrong."""
    typing = _wants_fragment() and request.headers.get(TYPING_HEADER) == "1"
    return parse_search_args(request.args, _search().limits, _settings().per_page, typing)


def _render(template: str, fragment: str, status: int = 200, **context):
    """The full page, or for htmx just the fragment the page includes."""
    name = fragment if _wants_fragment() else template
    response = make_response(render_template(name, fragment=name == fragment, live_search=True, **context), status)
    response.vary.add("HX-Request")
    response.vary.add(TYPING_HEADER)
    return response


@bp.get("/")
def home():
    return search_page()


@bp.get("/search")
def search_page():
    settings = _settings()
    q = request.args.get("q", "")
    try:
        req = _parse_search_args()
        result = _search().search(req)
    except InvalidSearch as error:
        return _render("search.html", "_results.html", 400, q=q[:1000], error=str(error))
    return _render("search.html", "_results.html", q=req.q, **results_context(result, settings.per_page))


@bp.get("/api/search")
def api_search():
    return jsonify(_search().search(_parse_search_args()).to_json())


@bp.get("/articles/<path:article_id>")
def article_page(article_id: str):
    q = request.args.get("q", "")
    view = _search().article(article_id, q)
    try:
        back = url_with("web.search_page", request_params(_parse_search_args(), _settings().per_page))
    except InvalidSearch:
        back = url_with("web.search_page", [("q", q)] if q else [])
    return render_template("article.html", article=view, q=q, back_url=back, entity_links=entity_links(view))


@bp.get("/api/articles/<path:article_id>")
def api_article(article_id: str):
    q = parse_article_args(request.args, _search().limits)
    return jsonify(_search().article(article_id, q).to_json())


@bp.get("/healthz")
def healthz():
    info = _search().info()
    return jsonify({"status": "ok", **info})


def _json_error(status: int, message: str):
    return make_response(jsonify({"error": message, "status": status}), status)


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_page(status: int, title: str, message: str):
    if _is_api():
        return _json_error(status, message)
    return make_response(render_template("error.html", status=status, title=title, message=message), status)


def _invalid(error: InvalidSearch):
    """Bad parameters of the API (the pages catch their own, to show the search page)."""
    return _error_page(400, "Bad request", str(error))


def _not_found(error: ArticleNotFound):
    return _error_page(404, "Article not found", str(error))


def _no_index(error: SearchIndexError):
    log.warning("%s", error)
    if _is_api():
        return _json_error(503, str(error))
    return _render("search.html", "_results.html", 503, q=request.args.get("q", ""), no_index=str(error),
                   unavailable=isinstance(error, EngineUnavailable))


def _http_error(error: HTTPException):
    """Our page or JSON for the error, keeping its headers (a 405's `Allow`)."""
    response = _error_page(error.code or 500, error.name, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unexpected(error: Exception):
    log.exception("unexpected error")
    return _error_page(500, "Something went wrong", "The search service hit an unexpected error; it has been logged.")


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["searchapp.settings"] = settings
    app.extensions["searchapp.search"] = open_backend(settings)
    app.url_map.merge_slashes = False  # `//` in an article id is a 404, not a redirect to another id
    app.add_template_filter(kind_label)
    app.register_blueprint(bp)
    from . import embed  # here: embed imports this module

    app.register_blueprint(embed.bp)
    app.register_error_handler(InvalidSearch, _invalid)
    app.register_error_handler(ArticleNotFound, _not_found)
    app.register_error_handler(SearchIndexError, _no_index)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    guard.init_app(app, settings)
