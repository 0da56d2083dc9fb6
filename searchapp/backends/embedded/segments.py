"""One segment from a run of articles: paragraphs, analysis, Whoosh's files, term arrays, word counts.

Builds (one `PartBuilder` per process) and updates (one for the new and
changed articles) write segments the same way.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from ...articles import Article
from ...fields import SEARCHED, document_fields
from ...paragraphs import split_paragraphs
from .analysis import NewsAnalyzer
from .lexicon import Lexicon, distinct_words, words_of
from .schema import make_schema
from .term_arrays import FieldArrays, write_segment_arrays
from .whoosh_compat import SearchappCodec, Segment, SegmentBuilder

Progress = Callable[[Article], None]


@dataclass
class SegmentPart:
    """What one process built: its segment (None if it got no paragraphs), word counts and totals."""

    segment: Segment | None
    words: Counter[str]
    articles: int
    paragraphs: int


class PartBuilder:
    """Splits articles into paragraphs and collects them into one new segment of the index in `folder`."""

    def __init__(self, folder: Path, entities: str):
        self.folder = folder
        self.entities = entities
        schema = make_schema()
        self.arrays: dict[str, FieldArrays] = {name: FieldArrays() for name in SEARCHED}
        self.builder = SegmentBuilder(FileStorage(str(folder)), schema, SearchappCodec(), self._add_postings)
        self.analyzer: NewsAnalyzer = schema["text"].analyzer
        self.lexicon = Lexicon()
        self.articles = 0

    def _add_postings(self, fieldname: str, term: bytes, *postings) -> None:
        self.arrays[fieldname].add(term, *postings)

    def add(self, article: Article) -> None:
        title_words = words_of(article.title)
        for paragraph in split_paragraphs(article, self.entities):
            text = paragraph.text
            words = self.analyzer.words(text)
            self.builder.add_document(document_fields(paragraph), {"text": self.analyzer.term_positions(text, words)})
            # In ASCII text the analyzer's words are the word list's: one pass over the text for both.
            self.lexicon.add(title_words | (distinct_words(words) if text.isascii() else words_of(text)))
        self.articles += 1

    def finish(self) -> SegmentPart:
        """Write the segment's files and term arrays."""
        segment = None
        if self.builder.doccount:
            segment = self.builder.finish()
            write_segment_arrays(self.folder, segment.segment_id(), self.arrays)
        return SegmentPart(segment, self.lexicon.counts, self.articles, self.builder.doccount)

    def cancel(self) -> None:
        self.builder.cancel()


def segment_here(folder: Path, articles: Iterable[Article], entities: str, progress: Progress | None) -> SegmentPart:
    """Build one segment of `articles` in this process."""
    part = PartBuilder(folder, entities)
    with collector_paused():
        try:
            for article in articles:
                part.add(article)
                if progress:
                    progress(article)
        except BaseException:
            part.cancel()
            raise
        return part.finish()


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
