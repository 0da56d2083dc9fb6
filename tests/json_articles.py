"""Articles as JSON Lines for the backend tests: the same input for every engine's build."""

from __future__ import annotations

import json
from pathlib import Path


def articles_file(folder: Path, articles: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "news.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in articles) + "\n", encoding="utf-8")
    return path


def article(article_id: str, *paragraphs: str) -> dict:
    return {"id": article_id, "title": f"Story {article_id}", "text": "\n\n".join(paragraphs), "date": "2024-01-02"}
