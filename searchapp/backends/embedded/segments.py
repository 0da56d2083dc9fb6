"""One segment from a run of articles: paragraphs, analysis, Whoosh's files, term arrays, word counts.

Builds (one `PartBuilder` per process) and updates (one for the new and
changed articles) write segments the same way, and give people, places and
organisations the names the whole archive knows (`searchapp.entities`).
"""

from __future__ import annotations

import gc
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from ...articles import Article
from ...entities import Canonicalizer, Entities, EntityNames, load_aliases
from ...fields import SEARCHED, document_fields, stored_document
from ...paragraphs import article_entities, split_paragraphs
from .analysis import NewsAnalyzer
from .lexicon import Lexicon, distinct_words, words_of
from .schema import make_schema
from .term_arrays import FieldArrays, write_segment_arrays
from .whoosh_compat import SearchappCodec, Segment, SegmentBuilder

Progress = Callable[[Article], None]
NAMES_FILE = "entity_names.json"  # the archive's names, counted per source, for updates


@dataclass
class SegmentPart:
    """What one process built: its segment (None if it got no paragraphs), word counts and totals."""

    segment: Segment | None
    words: Counter[str]
    articles: int
    paragraphs: int


class PartBuilder:
    """Collects articles, then writes them as one new segment of the index in `folder`.

    Two steps, so that people, places and organisations can take the names the
    whole archive knows: `add` finds each article's names (and counts them in
    `names`); `write` splits the articles into paragraphs with their names made
    canonical by a `Canonicalizer` of every process's counts, and writes them.
    """

    def __init__(self, folder: Path, entities: str):
        self.folder = folder
        self.entities = entities
        schema = make_schema()
        self.arrays: dict[str, FieldArrays] = {name: FieldArrays() for name in SEARCHED}
        self.builder = SegmentBuilder(FileStorage(str(folder)), schema, SearchappCodec(), self._add_postings)
        self.analyzer: NewsAnalyzer = schema["text"].analyzer
        self.lexicon = Lexicon()
        self.names = EntityNames()
        self.articles = 0
        self._pending: list[tuple[Article, list[Entities]]] = []

    def _add_postings(self, fieldname: str, term: bytes, *postings) -> None:
        self.arrays[fieldname].add(term, *postings)

    def add(self, article: Article) -> None:
        """Find the article's names; it is written by `write`."""
        named = article_entities(article, self.entities)
        self.names.add_article(named, article.source)
        self._pending.append((article, named))
        self.articles += 1

    def write(self, canonical: Canonicalizer) -> None:
        """Write the articles added so far, their names made canonical."""
        for article, named in self._pending:
            canonical_names = [canonical.apply(entities, article.source) for entities in named]
            self._write_article(article, canonical_names)
        self._pending = []

    def _write_article(self, article: Article, named: list[Entities]) -> None:
        title_words = words_of(article.title)
        for paragraph in split_paragraphs(article, named=named):
            text = paragraph.text
            words = self.analyzer.words(text)
            self.builder.add_document(document_fields(paragraph), {"text": self.analyzer.term_positions(text, words)})
            # In ASCII text the analyzer's words are the word list's: one pass over the text for both.
            self.lexicon.add(title_words | (distinct_words(words) if text.isascii() else words_of(text)))

    def add_stored(self, stored: dict[str, object]) -> None:
        """Write a document again from its stored fields (a merge); its words are counted already."""
        text = str(stored.get("text", ""))
        positions = self.analyzer.term_positions(text, self.analyzer.words(text))
        self.builder.add_document(stored_document(stored), {"text": positions})

    def finish(self) -> SegmentPart:
        """Write the segment's files and term arrays."""
        segment = None
        if self.builder.doccount:
            segment = self.builder.finish()
            write_segment_arrays(self.folder, segment.segment_id(), self.arrays)
        return SegmentPart(segment, self.lexicon.counts, self.articles, self.builder.doccount)

    def cancel(self) -> None:
        self.builder.cancel()


def canonical_names(names: EntityNames, aliases: str) -> Canonicalizer:
    """What each name of `names` stands for across the archive (built-in and the user's aliases first)."""
    return names.canonicalizer(load_aliases(aliases or None))


def segment_here(folder: Path, articles: Iterable[Article], entities: str, progress: Progress | None,
                 aliases: str = "", known: EntityNames | None = None) -> tuple[SegmentPart, EntityNames]:
    """Build one segment of `articles` in this process; with the archive's name counts (`known`,
    plus these articles'), which it returns."""
    part = PartBuilder(folder, entities)
    with collector_paused():
        try:
            for article in articles:
                part.add(article)
                if progress:
                    progress(article)
            names = EntityNames()
            names.update(part.names)
            if known is not None:
                names.update(known)
            part.write(canonical_names(names, aliases))
        except BaseException:
            part.cancel()
            raise
        return part.finish(), names


def save_names(generation: Path, names: EntityNames) -> None:
    """Keep the archive's name counts beside the index, for updates."""
    temporary = generation / f"{NAMES_FILE}.tmp"
    temporary.write_text(json.dumps(names.to_json()))
    os.replace(temporary, generation / NAMES_FILE)


def load_names(generation: Path) -> EntityNames:
    """The archive's name counts kept by the build (none if it kept none)."""
    try:
        return EntityNames.from_json(json.loads((generation / NAMES_FILE).read_text()))
    except FileNotFoundError:
        return EntityNames()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a build makes millions of lists and no cycles, and the
    collector's passes over them took 3-5 % of it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
