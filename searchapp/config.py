"""Settings with defaults and one line of help each, read from `SEARCHAPP_*` variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from .entities.aliases import read_alias_file
from .search.tolerance import Synonyms, TypoPolicy

PREFIX = "SEARCHAPP_"
ENTITY_EXTRACTORS = ("rules", "spacy", "off")
BACKENDS = ("embedded", "opensearch")


def _setting(default: object, help: str) -> object:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    backend: str = _setting(
        "embedded", "Search engine: embedded (the index folder) or opensearch (a cluster: SEARCHAPP_OPENSEARCH_*)."
    )
    index: str = _setting("index", "Folder of the index (built by `searchapp index build`).")
    embed_origins: tuple[str, ...] = _setting(
        (), "Origins allowed to embed the widget and call the API cross-origin (JSON list or comma-separated)."
    )
    per_page: int = _setting(10, "Hits per page by default.")
    max_per_page: int = _setting(100, "Largest page size a request may ask for.")
    max_page: int = _setting(1000, "Deepest page a request may ask for.")
    max_query_length: int = _setting(500, "Longest query accepted, in characters.")
    search_time_limit: float = _setting(2.0, "Seconds a search may run before it returns what it found so far.")
    cache_size: int = _setting(256, "Search results kept in each worker's LRU cache (0 turns it off).")
    rate_limit: int = _setting(0, "Requests per minute allowed from one client address (0: no limit).")
    entities: str = _setting(
        "rules", "People, places and organisations while indexing: rules, spacy (the entities-spacy extra) or off."
    )
    entity_aliases: str = _setting(
        "", "File of name groups for the entity facets, read when indexing: one group a line, comma-separated, "
            "the first name shown for all."
    )
    typos: str = _setting(
        "5,9", "Typo tolerance: off, or the word lengths from which one and two typos are allowed (5,9)."
    )
    synonyms: str = _setting("", "A file of synonym groups, one a line, comma-separated (read at start).")

    @classmethod
    def help(cls) -> dict[str, str]:
        return {PREFIX + f.name.upper(): f.metadata["help"] for f in fields(cls)}


def _convert(raw: str, default: object) -> object:
    """A variable's text as the type of its default (JSON accepted for lists and numbers)."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, tuple):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw.split(",")
        if isinstance(value, str):
            value = [value]
        return tuple(str(item).strip().rstrip("/") for item in value if str(item).strip())
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from the environment, then from keyword overrides; bad values raise ValueError."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for setting in fields(Settings):
        raw = environ.get(PREFIX + setting.name.upper())
        if raw is not None and raw != "":
            try:
                values[setting.name] = _convert(raw, setting.default)
            except ValueError:
                raise ValueError(f"{PREFIX}{setting.name.upper()}={raw!r} is not a valid value") from None
    settings = replace(Settings(), **values)
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    TypoPolicy.parse(settings.typos)  # raises ValueError with what is wrong
    Synonyms.load(settings.synonyms)  # a bad file fails now, in one line, not in a server's worker
    if settings.entities not in ENTITY_EXTRACTORS:
        raise ValueError(f"{PREFIX}ENTITIES must be one of {', '.join(ENTITY_EXTRACTORS)}, not {settings.entities!r}")
    if settings.entity_aliases:
        read_alias_file(settings.entity_aliases)  # a bad file fails now, in one line (AliasError is a ValueError)
    if settings.backend not in BACKENDS:
        raise ValueError(f"{PREFIX}BACKEND must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")
    return settings
