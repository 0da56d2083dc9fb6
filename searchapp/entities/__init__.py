"""People, places and organisations named in an article's paragraphs, for search facets.

- `extract_article_entities(title, paragraphs)`: one `Entities` per paragraph, short forms
  merged within the article (`merge`), by the rules extractor (`rules`, pure Python,
  offline) or spaCy (`spacy_ner`, the optional ``entities-spacy`` extra).
- `EntityNames` and `Canonicalizer` (`canonical`): one value per entity across the whole
  archive, from article counts gathered while indexing and the alias groups (`aliases`:
  built in, plus the user's file named by ``SEARCHAPP_ENTITY_ALIASES``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .aliases import AliasError, builtin_aliases, load_aliases, read_alias_file
from .canonical import FACETS, Canonicalizer, EntityNames
from .lexicon import ORG, PERSON, PLACE
from .merge import Entities, Mention, merge_mentions, normalise_mention
from .rules import clean_text, paragraph_mentions

__all__ = [
    "FACETS", "ORG", "PERSON", "PLACE", "AliasError", "Canonicalizer", "Entities", "EntityNames", "Mention",
    "builtin_aliases", "clean_text", "extract_article_entities", "load_aliases", "merge_mentions",
    "normalise_mention", "paragraph_mentions", "read_alias_file",
]


def extract_article_entities(title: str, paragraphs: Sequence[str], *,
                             extractor: str = "rules") -> list[Entities]:
    """One Entities per paragraph (same order and length), names merged across the article
    (short form -> full form, titles stripped), each tuple sorted and de-duplicated.
    The title is not a paragraph: headlines are title case or capitals, so it gives no names."""
    if extractor == "spacy":
        from .spacy_ner import spacy_mentions

        return merge_mentions(spacy_mentions(paragraphs))
    if extractor != "rules":
        raise ValueError(f"unknown entity extractor {extractor!r}")
    return merge_mentions([paragraph_mentions(p) for p in paragraphs])
