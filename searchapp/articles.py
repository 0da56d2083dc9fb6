"""Reading source files into `Article` records.

Two inputs: the plain-text layout of the bundled sample article (title, byline,
date, optional photo credit, paragraphs, `Original url:`) and JSON Lines (one
article per line). This module knows about layout only; what a paragraph *is*
(its kind, section, id) is decided in `paragraphs`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SOURCE_SUFFIXES = (".txt", ".jsonl")
MAX_FILE_BYTES = 64 * 1024 * 1024
SAMPLE_DIR = Path(__file__).parent / "sample"


class ArticleParseError(ValueError):
    """A source file or JSON line that cannot be read as an article."""


@dataclass(frozen=True)
class Block:
    """One block of an article body as laid out: a paragraph, a heading or a related link."""

    text: str
    role: str = "paragraph"  # paragraph | heading | related


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    blocks: tuple[Block, ...]
    author: str = ""
    published: str = ""
    source: str = ""
    url: str = ""
    topic: str = ""
    credit: str = ""
    origin: str = ""
    content_hash: str = field(default="", compare=False)


@dataclass(frozen=True)
class SkippedSource:
    """A file (or JSON line) that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class ReadReport:
    """What reading a set of sources skipped; filled in while articles stream out."""

    skipped: list[SkippedSource] = field(default_factory=list)
    files: int = 0

    def skip(self, path: str | Path, reason: str) -> None:
        log.warning("skipped %s: %s", path, reason)
        self.skipped.append(SkippedSource(str(path), reason))


# --- dates -----------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_TIME = r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s+[A-Z]{2,5})?)?"
# ASCII only: with Unicode case folding `ſept` would match `sept` and miss the month table.
_DATE_PATTERNS = [
    re.compile(rf"^{_WEEKDAY}{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}}){_TIME}$", re.I | re.A),
    re.compile(rf"^{_WEEKDAY}(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}}){_TIME}$",
               re.I | re.A),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$", re.A),
]


def parse_date(text: str) -> str:
    """The ISO date (YYYY-MM-DD) a date line or timestamp names, or '' if it names none."""
    text = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        month = match["month"]
        month_number = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
        try:
            return date(int(match["year"]), month_number, int(match["day"])).isoformat()
        except ValueError:
            return ""
    return ""


# --- text clean-up ---------------------------------------------------------

# Only lower-case inline HTML tags: wire copy writes tickers as `<BP>` or `<Sedio N.V.>`.
_TAG = re.compile(r"</?(?:u|b|i|s|em|strong|span|a|br|sup|sub|small|mark|p)\b[^<>]*>")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_markup(text: str) -> str:
    """One line without the simple inline tags (`<u>`, `<b>`, …) of the layout, spaces folded."""
    return _SPACES.sub(" ", _TAG.sub("", text)).strip()


def remove_tags(text: str) -> str:
    """Text without inline tags; spacing inside lines is kept (wire tables align with it)."""
    return "\n".join(line.strip() for line in _TAG.sub("", text).split("\n") if line.strip())


def clean_text(text: str) -> str:
    """Text without control characters, each line stripped and blank lines dropped."""
    lines = (line.strip() for line in _CONTROL.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line)


def source_from_url(url: str) -> str:
    """The publisher's host name from a URL, without `www.` (e.g. `themoscowtimes.com`)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def content_hash(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def finish_article(article: Article) -> Article:
    """The article with its content hash filled in (used by `update` to spot changes)."""
    body = "\n\n".join(f"{b.role}:{b.text}" for b in article.blocks)
    digest = content_hash(
        article.title, article.author, article.published, article.source,
        article.url, article.topic, article.credit, body,
    )
    return Article(**{**article.__dict__, "content_hash": digest})


# --- the plain-text layout ---------------------------------------------------

_BYLINE = re.compile(r"^by\s+(?P<author>.+)$", re.I)
_URL_LABEL = re.compile(r"^original\s+url\s*:\s*(?P<rest>.*)$", re.I)
_RELATED = re.compile(r"^related(?:\s+articles?)?\s*:\s*(?P<title>.+)$", re.I | re.S)
_CREDIT = re.compile(
    r"^(?:(?:photo|image|picture|credit|source)s?\b.*|©.*"
    r"|[\w.-]+\.[a-z]{2,}(?:/\S*)?"  # a bare domain such as kremlin.ru
    r"|[\w.' -]+/[\w.' -]+)$",  # AFP/Getty Images
    re.I,
)
_END_PUNCTUATION = tuple(".!?:;,\"'”’…)]")
_QUOTES = "'\"‘’“”"


def _unix_lines(text: str) -> str:
    """CRLF and lone CR line ends as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _blocks_of(text: str) -> list[str]:
    """Runs of non-blank lines, each as one string with its lines kept."""
    return [block for block in (clean_text(chunk) for chunk in re.split(r"\n\s*\n", text)) if block]


def _is_credit(block: str) -> bool:
    """A short photo credit line; a sentence (`Sources said so.`) is body text, not a credit."""
    return len(block) <= 60 and "\n" not in block and not _ends_sentence(block) and bool(_CREDIT.match(block))


def _ends_sentence(block: str) -> bool:
    return block.rstrip(_QUOTES + ")]").endswith((".", "!", "?", "…"))


def _is_heading(block: str, before: str, after: str) -> bool:
    """A short line without end punctuation or digits between two full sentences.

    Like the sample's `'Building a new Syria'`; the neighbours must end their
    sentences so that the one-figure-per-line tables of wire copy (`Year`,
    `Six mths`) stay paragraphs.
    """
    if "\n" in block or len(block) > 80 or len(block.split()) > 10:
        return False
    if any(ch.isdigit() for ch in block) or not any(ch.isalpha() for ch in block):
        return False
    core = block.strip(_QUOTES)
    if not core or not core[0].isupper() or core.endswith(_END_PUNCTUATION):
        return False
    return _ends_sentence(before) and _ends_sentence(after)


def _continues(previous: str, block: str) -> bool:
    """Whether `block` is the rest of `previous`, cut by a page break mid-sentence."""
    return (
        block[0].islower()
        and not _ends_sentence(previous)
        and not previous.endswith(":")
    )


def _header_field(line: str) -> tuple[str, str] | None:
    """(`author` | `published` | `credit`, value) for a header line, None for body text."""
    if (byline := _BYLINE.match(line)) and len(line) <= 100 and not _ends_sentence(line):
        return "author", byline["author"].strip()
    if published := parse_date(line):
        return "published", published
    if _is_credit(line):
        return "credit", line
    return None


def _split_header(blocks: list[str]) -> tuple[dict[str, str], list[str]]:
    """The title, author, date and credit of the header, and the body blocks.

    Each header field is taken once: a second `By …` line or date is body text.
    """
    fields = {"title": strip_markup(blocks[0])}
    end = 1
    while end < len(blocks):
        field_value = _header_field(strip_markup(blocks[end]))
        if field_value is None or field_value[0] in fields:
            break
        fields[field_value[0]] = field_value[1]
        end += 1
    return fields, blocks[end:]


def _split_url(blocks: list[str]) -> tuple[list[str], str]:
    """The body without the `Original url:` block, and the repaired URL.

    The URL is the rest of the label's block, or the next block when the label
    stands alone; it ends at a blank line, so the blocks after it stay body text.
    """
    for index, block in enumerate(blocks):
        first, _, more = block.partition("\n")
        if label := _URL_LABEL.match(first):
            url, end = f"{label['rest']}{more}", index + 1
            if not url.strip() and end < len(blocks):
                url, end = blocks[end], end + 1
            return blocks[:index] + blocks[end:], re.sub(r"\s+", "", strip_markup(url))
    return blocks, ""


def _body_blocks(blocks: list[str]) -> list[Block]:
    """Body blocks with page breaks repaired and headings and related links marked."""
    texts = [text for text in map(remove_tags, blocks) if text]
    body: list[Block] = []
    for index, text in enumerate(texts):
        before = texts[index - 1] if index else ""
        after = texts[index + 1] if index + 1 < len(texts) else ""
        if body and body[-1].role == "paragraph" and _continues(body[-1].text, text):
            body[-1] = Block(f"{body[-1].text} {text}")
        elif related := _RELATED.match(text):
            body.append(Block(" ".join(related["title"].split()), "related"))
        elif _is_heading(text, before, after):
            body.append(Block(text.strip(_QUOTES).strip(), "heading"))
        else:
            body.append(Block(text))
    return body


def parse_text_article(text: str, article_id: str, origin: str = "") -> Article:
    """An article from the plain-text layout of the bundled sample."""
    blocks = _blocks_of(_unix_lines(_valid_unicode(text)))
    if not blocks:
        raise ArticleParseError("the file is empty")
    fields, rest = _split_header(blocks)
    rest, url = _split_url(rest)
    body = _body_blocks(rest)
    if not any(block.role != "heading" for block in body):
        raise ArticleParseError("the article has a title but no paragraphs")
    return finish_article(Article(
        id=article_id,
        title=fields["title"],
        blocks=tuple(body),
        author=fields.get("author", ""),
        published=fields.get("published", ""),
        source=source_from_url(url),
        url=url,
        credit=fields.get("credit", ""),
        origin=origin,
    ))


# --- JSON Lines --------------------------------------------------------------

def _json_string(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(str(item) for item in value)
    if not isinstance(value, str | int | float):
        raise ArticleParseError(f"field {key!r} must be a string")
    return " ".join(clean_text(_valid_unicode(str(value))).split())


def _valid_unicode(text: str) -> str:
    """The text with lone surrogates (JSON escapes such as `\\ud800`, or a caller's str) as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def parse_json_article(line: str, origin: str = "") -> Article:
    """An article from one JSON Lines record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ArticleParseError(f"not valid JSON ({error.msg} column {error.colno})") from None
    except (ValueError, RecursionError):  # a number of over 4300 digits; nesting too deep
        raise ArticleParseError("not valid JSON (too large or too deeply nested)") from None
    if not isinstance(record, dict):
        raise ArticleParseError("a line must hold a JSON object")
    article_id = _json_string(record, "id")
    if not article_id:
        raise ArticleParseError("the record has no 'id'")
    text = record.get("text")
    paragraphs = _blocks_of(_unix_lines(_valid_unicode(text))) if isinstance(text, str) else []
    if not paragraphs:
        raise ArticleParseError("the record has no 'text'")
    url = re.sub(r"\s+", "", _json_string(record, "url"))
    return finish_article(Article(
        id=article_id,
        title=_json_string(record, "title") or article_id,
        blocks=tuple(Block(paragraph) for paragraph in paragraphs),
        author=strip_markup(_json_string(record, "author")),
        published=parse_date(_json_string(record, "date")),
        source=_json_string(record, "source") or source_from_url(url),
        url=url,
        topic=_json_string(record, "topic"),
        origin=origin,
    ))


# --- files and folders -------------------------------------------------------

def decode_source(data: bytes, path: Path) -> str:
    """UTF-8 text of a file; cp1252 with a warning when it is not valid UTF-8."""
    if b"\x00" in data[:8192]:
        raise ArticleParseError("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("%s is not valid UTF-8; read as cp1252", path)
        return data.decode("cp1252", errors="replace")


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleParseError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return decode_source(path.read_bytes(), path)


def _articles_of_jsonl(path: Path, report: ReadReport) -> Iterator[Article]:
    text = _read_text(path)
    # Only "\n" ends a JSON line: splitlines() would also cut at U+2028 or \x85 inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield parse_json_article(line, origin=str(path))
        except ArticleParseError as error:
            report.skip(f"{path}:{number}", str(error))


def _articles_of_file(path: Path, report: ReadReport) -> Iterator[Article]:
    report.files += 1
    try:
        if path.suffix.lower() == ".jsonl":
            yield from _articles_of_jsonl(path, report)
        else:
            yield parse_text_article(_read_text(path), path.stem, origin=str(path))
    except ArticleParseError as error:
        report.skip(path, str(error))
    except OSError as error:
        report.skip(path, error.strerror or str(error))


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def source_files(source: Path, report: ReadReport) -> Iterator[Path]:
    """The article files of one source: the file itself, or a folder's files in order.

    Symbolic links that lead out of a folder are skipped, so nothing outside the
    named sources is read.
    """
    if source.is_file():
        yield source
        return
    for root, dirs, files in os.walk(source, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.suffix.lower() not in SOURCE_SUFFIXES or name.startswith("."):
                continue
            if path.is_symlink() and not _is_inside(path, source):
                report.skip(path, "symbolic link leads outside the source folder")
                continue
            if not path.is_file():  # a FIFO would block the reader, a device never end
                report.skip(path, "not a regular file")
                continue
            yield path


class SourceError(ValueError):
    """A named source that does not exist or holds no article files."""


def check_sources(sources: Iterable[Path]) -> list[Path]:
    """The sources as absolute paths; raises `SourceError` for a missing one."""
    checked = []
    for source in sources:
        if not source.exists():
            raise SourceError(f"no such file or folder: {source}")
        checked.append(source.absolute())
    return checked


def read_articles(sources: Iterable[Path], report: ReadReport) -> Iterator[Article]:
    """Every article of the sources, in order; unreadable files are skipped into `report`."""
    for source in check_sources(sources):
        for path in source_files(source, report):
            yield from _articles_of_file(path, report)


def sample_sources() -> list[Path]:
    """The bundled sample article(s), used when no source is named."""
    return [SAMPLE_DIR]


def count_articles(sources: Iterable[Path]) -> int:
    """About how many articles the sources hold (a JSON line or a text file each), for progress bars."""
    report = ReadReport()
    total = 0
    for source in check_sources(sources):
        for path in source_files(source, report):
            if path.suffix.lower() == ".jsonl":
                with open(path, "rb") as handle:
                    total += sum(1 for line in handle if line.strip())
            else:
                total += 1
    return total


def unique_articles(sources: list[Path], report: ReadReport) -> Iterator[Article]:
    """The articles of `sources`; a repeated id is skipped and reported (the first is kept)."""
    seen: set[str] = set()
    for article in read_articles(sources, report):
        if article.id in seen:
            report.skip(article.origin, f"article id {article.id!r} appears twice; the first is kept")
            continue
        seen.add(article.id)
        yield article
