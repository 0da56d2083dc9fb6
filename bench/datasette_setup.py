"""Load the same paragraphs into SQLite with an FTS5 index, for the Datasette baseline.

Table `paragraphs` (id, article_id, title, text, topic as a JSON array, section, kind,
author, source, month) with an external-content FTS5 table `paragraphs_fts` over
title + text (porter stemmer), which Datasette's `?_search=` uses. Queries go to
`/db/paragraphs.json?_search=…&_facet_array=topic&_size=10`; Datasette itself runs
from its own venv (/tmp/dsvenv), never from the project's.

    .venv/bin/python -m bench.datasette_setup --db /tmp/searchapp-bench/bbc/db.db SOURCE.jsonl
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

from .common import month, paragraphs, topics

COLUMNS = ("id", "article_id", "title", "text", "topic", "section", "kind", "author", "source", "month")
SCHEMA = f"""
CREATE TABLE paragraphs (id TEXT PRIMARY KEY, {", ".join(f"{c} TEXT" for c in COLUMNS[1:])});
CREATE VIRTUAL TABLE paragraphs_fts USING fts5(
    title, text, content="paragraphs", content_rowid="rowid", tokenize='porter unicode61');
"""


def build(db: Path, sources: list[Path]) -> int:
    """Write a fresh database at `db` (its file name must be db.db for the /db/ URLs); the row count."""
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        conn.executescript(SCHEMA)
        rows = (
            (p.id, p.article_id, p.title, p.text, json.dumps(topics(p)), p.section, p.kind, p.author, p.source,
             month(p))
            for p in paragraphs(sources)
        )
        conn.executemany(f"INSERT INTO paragraphs VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        conn.execute("INSERT INTO paragraphs_fts (rowid, title, text) SELECT rowid, title, text FROM paragraphs")
        for column in ("topic", "month", "kind"):
            conn.execute(f"CREATE INDEX paragraphs_{column} ON paragraphs ({column})")
        count = conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    with sqlite3.connect(db) as conn:
        conn.execute("VACUUM")
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", type=Path, help="JSON Lines articles")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file to (re)create, named db.db")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count = build(args.db, args.sources)
    print(f"{args.db}: {count} paragraphs in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
