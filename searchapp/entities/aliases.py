"""Alias groups: the names of one place or organisation ("U.S.", "US", "United States"), the first
canonical. Built in (``searchapp/data/entities_aliases.txt``) and from the user's file named by
``SEARCHAPP_ENTITY_ALIASES``, whose groups win."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

BUILTIN = "entities_aliases.txt"


class AliasError(ValueError):
    """An alias file that cannot be used; the message is one line naming the file and line."""


def parse_aliases(text: str, origin: str) -> dict[str, str]:
    """name -> canonical name for the groups in `text` (one group a line, comma-separated,
    the first name canonical; # comments and blank lines skipped)."""
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names = [" ".join(name.split()) for name in line.split(",")]
        if "" in names:
            raise AliasError(f"{origin}:{number}: an empty name (two commas, or one at an end)")
        if len(names) < 2:
            raise AliasError(f"{origin}:{number}: a group needs two or more names, comma-separated")
        for name in names:
            if name in table and table[name] != names[0]:
                raise AliasError(f"{origin}:{number}: {name!r} is in an earlier group too")
            table[name] = names[0]
    return table


@lru_cache(maxsize=1)
def builtin_aliases() -> dict[str, str]:
    text = resources.files("searchapp").joinpath("data", BUILTIN).read_text(encoding="utf-8")
    return parse_aliases(text, BUILTIN)


def read_alias_file(path: str | Path) -> dict[str, str]:
    """The groups of a user's alias file; AliasError (one line) if it cannot be read or parsed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AliasError(f"entity alias file {path}: no such file") from None
    except UnicodeDecodeError:
        raise AliasError(f"entity alias file {path}: not UTF-8 text") from None
    except OSError as error:
        raise AliasError(f"entity alias file {path}: {error.strerror or error}") from None
    return parse_aliases(text, str(path))


def load_aliases(path: str | Path | None = None) -> dict[str, str]:
    """Every alias -> its canonical name: the built-in groups, then the user's file at `path`
    (if any), whose groups win; chains end at a name that maps to itself
    ("U.S." -> "United States" -> "USA" when the user's group is "USA, United States")."""
    table = dict(builtin_aliases())
    if path:
        user = read_alias_file(path)
        table.update(user)
        log.info("entities: %d names in %d alias groups from %s", len(user), len(set(user.values())), path)
    return {name: follow(table, name) for name in table}


def follow(table: Mapping[str, str], name: str) -> str:
    """The end of a chain of names in `table` ("Goldman" -> "Goldman Sachs" -> "Goldman Sachs and Co");
    a cycle ends where it would repeat."""
    seen = {name}
    while (target := table.get(name, name)) not in seen:
        seen.add(target)
        name = target
    return name
