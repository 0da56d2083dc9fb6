"""The naive baseline: Flask + Whoosh done the obvious way, served by gunicorn like searchapp.

- Schema: title and text TEXT with Whoosh's StemmingAnalyzer; facet fields ID (sortable),
  topic KEYWORD (sortable; several topics per paragraph); built by one plain writer.
- GET /api/search?q=…&topic=…: QueryParser with AndGroup over title+text, facet filters
  as Term filters, `groupedby` counts (maptype=sorting.Count) of the same facets as
  searchapp, `hit.highlights()` on the top 10. One reused searcher per worker thread.
- GET /floor: constant JSON, the cost of Flask + gunicorn + HTTP alone.
- GET /healthz: the document count.

    .venv/bin/python -m bench.naive_app build --index /tmp/naive-bbc SOURCE.jsonl
    .venv/bin/python -m bench.naive_app serve --port 8100 --index /tmp/naive-bbc SOURCE.jsonl
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from flask import Flask, jsonify, request
from whoosh import index as whoosh_index
from whoosh import qparser, sorting
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, TEXT, Schema

from .common import month, paragraphs, topics

# facet name (URL parameter, as in searchapp) -> field
FACETS = {"section": "section", "kind": "kind", "author": "author", "source": "source",
          "topic": "topic", "published": "month", "article": "article_id"}
# the settings of searchapp/server.py, so both servers differ only in the app
GUNICORN = {"worker_class": "gthread", "keepalive": 5, "timeout": 30, "graceful_timeout": 10,
            "accesslog": None, "errorlog": "-", "loglevel": "warning"}


def make_schema() -> Schema:
    facet = dict(stored=True, sortable=True)
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=StemmingAnalyzer()),
        text=TEXT(stored=True, analyzer=StemmingAnalyzer()),
        topic=KEYWORD(**facet),
        **{field: ID(**facet) for name, field in FACETS.items() if name != "topic"},
    )


def build(index_dir: Path, sources: list[Path]) -> int:
    """Index the paragraphs of `sources` into `index_dir` with one default writer; the count."""
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(index_dir, make_schema())
    count = 0
    with ix.writer() as writer:
        for paragraph in paragraphs(sources):
            fields = dict(
                id=paragraph.id, title=paragraph.title, text=paragraph.text, topic=" ".join(topics(paragraph)),
                section=paragraph.section, kind=paragraph.kind, author=paragraph.author,
                source=paragraph.source, month=month(paragraph), article_id=paragraph.article_id,
            )
            writer.add_document(**{name: value for name, value in fields.items() if value})
            count += 1
    ix.close()
    return count


def create_app(index_dir: Path) -> Flask:
    app = Flask(__name__)
    ix = whoosh_index.open_dir(index_dir)
    parser = qparser.MultifieldParser(["title", "text"], ix.schema, group=qparser.AndGroup)
    local = threading.local()
    facets = {name: sorting.FieldFacet(field, allow_overlap=(name == "topic")) for name, field in FACETS.items()}

    def searcher():
        if getattr(local, "searcher", None) is None:
            local.searcher = ix.searcher()
        return local.searcher

    @app.get("/floor")
    def floor():
        return jsonify({"ok": True})

    @app.get("/healthz")
    def healthz():
        return jsonify({"documents": searcher().doc_count()})

    @app.get("/api/search")
    def search():
        s = searcher()
        q = parser.parse(request.args.get("q", ""))
        terms = [wq.Term(FACETS[name], value) for name, value in request.args.items() if name in FACETS]
        results = s.search(q, limit=10, filter=wq.And(terms) if terms else None,
                           groupedby=facets, maptype=sorting.Count)
        return jsonify({
            "query": request.args.get("q", ""),
            "total": len(results),
            "documents": s.doc_count(),
            "hits": [{"id": hit["id"], "title": hit["title"], "highlights": hit.highlights("text")} for hit in results],
            "facets": {name: {str(k): n for k, n in results.groups(name).items() if k is not None} for name in FACETS},
        })

    return app


def serve(index_dir: Path, port: int, workers: int, threads: int) -> None:
    """Run gunicorn (gthread workers) on 127.0.0.1:`port`, like `searchapp serve`."""
    from gunicorn.app.base import BaseApplication

    class Naive(BaseApplication):
        def load_config(self):
            for key, value in {**GUNICORN, "bind": f"127.0.0.1:{port}", "workers": workers, "threads": threads}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(index_dir)

    Naive().run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "serve"):
        command = commands.add_parser(name, help=f"{name} the naive index")
        command.add_argument("sources", nargs="+", type=Path, help="JSON Lines articles")
        command.add_argument("--index", type=Path, required=True,
                             help="index folder (serve builds it first when it holds no index)")
    serve_command = commands.choices["serve"]
    serve_command.add_argument("--port", type=int, default=8100)
    serve_command.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    serve_command.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    if args.command == "build" or not whoosh_index.exists_in(args.index):
        started = time.perf_counter()
        count = build(args.index, args.sources)
        print(f"naive index {args.index}: {count} paragraphs in {time.perf_counter() - started:.1f} s", flush=True)
    if args.command == "serve":
        serve(args.index, args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()
