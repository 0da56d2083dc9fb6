"""Search on other sites: the `<searchapp-search>` widget script, the `/embed` page for iframes, a demo.

Which sites may embed is `settings.embed_origins`; `guard` turns it into CORS headers for
`/api/*` and `/widget.js` and into `frame-ancestors` for `/embed`. Nothing here reads or
keeps anything of the embedding page: no cookies are set, the referrer is not looked at.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, make_response, render_template, request

from ..errors import InvalidSearch, SearchIndexError
from . import _parse_search_args, _search, _settings
from .views import hit_views, search_url

bp = Blueprint("embed", __name__)

EMBED_PER_PAGE = 5  # the iframe is compact; `per_page` still overrides it
WIDGET_MAX_AGE = 3600  # the URL carries no version, so caches must look again within the hour


@bp.get("/widget.js")
def widget():
    """The script, as committed: no build step. Small enough to read whole; an ETag saves the transfer."""
    response = make_response((Path(current_app.static_folder) / "widget.js").read_bytes())
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = f"public, max-age={WIDGET_MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/embed")
def embed_page():
    """The compact page an iframe shows: a search box and the first few hits."""
    q = request.args.get("q", "")
    try:
        req = _parse_search_args()
        if "per_page" not in request.args:
            req = req.with_changes(per_page=EMBED_PER_PAGE)
        page = _search().search(req) if req.q else None
    except InvalidSearch as error:
        return _embed(400, q=q[:1000], error=str(error))
    except SearchIndexError as error:
        return _embed(503, q=q[:1000], error=str(error))
    filters = [(name, value) for name, values in req.filters for value in values]
    return _embed(
        200, q=req.q, req=req, page=page, filters=filters,
        hits=hit_views(page, req.per_page) if page else [],
        all_url=search_url(req.with_changes(page=1, per_page=_settings().per_page), _settings().per_page),
    )


def _embed(status: int, **context):
    return make_response(render_template("embed.html", **context), status)


def snippets(host: str) -> dict[str, str]:
    """What a site pastes into its pages; the README shows the same with `https://SEARCH-HOST`."""
    return {
        "widget": (
            f'<script src="{host}/widget.js" defer></script>\n'
            '<searchapp-search placeholder="Search the archive" facets="section,author"></searchapp-search>'
        ),
        "iframe": (
            f'<iframe src="{host}/embed" title="Search the archive"'
            ' style="width: 100%; height: 8rem; border: 0"></iframe>\n'
            "<script>\n"
            'addEventListener("message", (e) => {\n'
            f'  if (e.origin !== "{host}" || e.data?.type !== "searchapp:resize") return;\n'
            '  for (const f of document.querySelectorAll("iframe"))\n'
            '    if (f.contentWindow === e.source) f.style.height = e.data.height + "px";\n'
            "});\n"
            "</script>"
        ),
    }


@bp.get("/embed/demo")
def demo():
    """Both ways of embedding, live, each with the snippet to copy."""
    settings = _settings()
    return render_template("embed_demo.html", snippets=snippets(request.host_url.rstrip("/")),
                           origins=settings.embed_origins, live_search=False)
