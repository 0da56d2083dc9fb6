"""The `searchapp` command: thin click wrappers around the stages."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

import click

from .articles import ArticleParseError, ReadReport, SourceError, count_articles, read_articles, sample_sources
from .backends import Backend, BuildSummary, open_backend
from .backends.embedded.build import DEFAULT_PROCS
from .config import Settings, load_settings
from .errors import InvalidSearch, SearchIndexError
from .paragraphs import split_paragraphs
from .search import make_request

_MARK = re.compile(r"</?mark>")


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _index_option(command):
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
        default=None, help="Index folder [default: $SEARCHAPP_INDEX, else ./index].",
    )(command)


def _index_dir(index_dir: Path | None) -> Path:
    return index_dir or Path(_settings().index)


class _Failure(click.ClickException):
    """One clear line on stderr and exit status 1, never a traceback."""

    def show(self, file=None) -> None:
        click.echo(f"searchapp: {self.format_message()}", err=True)


def _environment_help() -> str:
    """The SEARCHAPP_* variables, for `searchapp --help` (click keeps \b paragraphs as written)."""
    return "\b\nEnvironment:\n" + "\n".join(f"  {name:28} {text}" for name, text in Settings.help().items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_environment_help())
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (to stderr).")
def main(verbose: bool) -> None:
    """Full-text search for news articles, one paragraph per document."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    else:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        # opensearch-py logs each failed request with its traceback; our error says it in one line.
        logging.getLogger("opensearch").setLevel(logging.ERROR)


@main.group("index")
def index_group() -> None:
    """Build, update and inspect the index."""


def _backend(index_dir: Path | None, cache_size: int | None = 0) -> Backend:
    try:
        return open_backend(_settings(), index_dir, cache_size)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _run_indexer(action: str, index_dir: Path | None, sources: tuple[Path, ...], wait: float,
                 **kwargs) -> BuildSummary:
    chosen = list(sources) or sample_sources()
    try:
        total = count_articles(chosen)
        with click.progressbar(length=total, label="Indexing articles", show_pos=True, file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            backend = _backend(index_dir)
            summary = getattr(backend, action)(chosen, progress=lambda article: bar.update(1), wait=wait, **kwargs)
    except (SourceError, SearchIndexError, OSError) as error:
        raise _Failure(str(error)) from None
    return summary


def _print_summary(summary: BuildSummary, verb: str) -> None:
    click.echo(
        f"{verb} {summary.path}: {summary.articles} articles, {summary.paragraphs} paragraphs, "
        f"{len(summary.skipped)} skipped, {summary.seconds:.2f} s"
    )


def _wait_option(command):
    return click.option(
        "--wait", type=click.FloatRange(min=0), default=0.0, show_default=True,
        help="Seconds to wait for another build or update to finish.",
    )(command)


@index_group.command("build")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@_wait_option
@click.option("--procs", type=click.IntRange(1, 16), default=DEFAULT_PROCS, show_default=True,
              help="Indexing processes; the default is the number of CPUs, at most 4.")
def index_build(sources: tuple[Path, ...], index_dir: Path | None, wait: float, procs: int) -> None:
    """Build a new index from SOURCES (files or folders of .txt / .jsonl) and switch to it.

    With no SOURCES, indexes the bundled sample article.
    """
    summary = _run_indexer("build", index_dir, sources, wait, procs=procs)
    if summary.articles == 0:
        raise _Failure("the sources held no articles; the previous index (if any) is still live")
    _print_summary(summary, "built")


@index_group.command("update")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@_wait_option
def index_update(sources: tuple[Path, ...], index_dir: Path | None, wait: float) -> None:
    """Add new and changed articles of SOURCES, and drop those whose source is gone."""
    summary = _run_indexer("update", index_dir, sources, wait)
    _print_summary(summary, "updated")
    click.echo(f"added {summary.added}, replaced {summary.replaced}, deleted {summary.deleted}, "
               f"unchanged {summary.unchanged}")


@index_group.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def index_stats_command(index_dir: Path | None, as_json: bool) -> None:
    """Articles, paragraphs, size on disk, build time and facet values."""
    backend = _backend(index_dir)
    try:
        stats = backend.stats()
        overview = backend.overview()
    except SearchIndexError as error:
        raise _Failure(str(error)) from None
    stats["articles"] = overview.articles
    stats["facets"] = {
        facet.name: [{"value": v.value, "count": v.count} for v in facet.values] for facet in overview.facets
    }
    if as_json:
        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    click.echo(f"{'index':15}{stats['index']} ({stats['generation']})")
    click.echo(f"{'articles':15}{stats['articles']}")
    click.echo(f"{'paragraphs':15}{stats['paragraphs']}")
    click.echo(f"{'size':15}{stats['size_bytes'] / 1024 / 1024:.1f} MiB")
    click.echo(f"{'built':15}{stats['built_at']}" + (f", updated {stats['updated_at']}" if stats["updated_at"] else ""))
    for name, values in stats["facets"].items():
        shown = ", ".join(f"{v['value']} ({v['count']})" for v in values) or "-"
        click.echo(f"{name + ':':15}{shown}")


@main.command("parse")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
def parse_command(sources: tuple[Path, ...]) -> None:
    """Print the paragraph documents of SOURCES as JSON Lines."""
    report = ReadReport()
    try:
        for article in read_articles(sources, report):
            for paragraph in split_paragraphs(article):
                click.echo(json.dumps(paragraph.to_dict(), ensure_ascii=False))
    except (SourceError, ArticleParseError) as error:
        raise _Failure(str(error)) from None
    if report.files == 0:
        raise _Failure("no .txt or .jsonl files in the named sources")


def _parse_filters(filters: tuple[str, ...]) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _Failure(f"--filter {item!r} is not FIELD=VALUE, e.g. --filter kind=quote")
        chosen.setdefault(name.strip(), []).append(value)
    return chosen


@main.command("search")
@click.argument("query")
@_index_option
@click.option("--filter", "filters", multiple=True, metavar="FIELD=VALUE", help="Narrow by a facet value (repeatable).")
@click.option("--page", default="1", help="Page number.")
@click.option("--per-page", default=None, help="Hits per page.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--group", is_flag=True, help="One hit per article.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(query, index_dir, filters, page, per_page, sort, group, as_json) -> None:
    """Search the index for QUERY; matches are marked."""
    settings = _settings()
    backend = _backend(index_dir)
    try:
        request = make_request(query, _parse_filters(filters), sort, page, per_page, group, backend.limits,
                               default_per_page=settings.per_page)
        result = backend.search(request.with_changes(typing=False))
    except (InvalidSearch, SearchIndexError) as error:
        raise _Failure(str(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    _print_hits(result)


def _terminal_marks(markup: str) -> str:
    import html

    parts = _MARK.split(str(markup))
    return "".join(click.style(html.unescape(p), bold=True, fg="yellow") if i % 2 else html.unescape(p)
                   for i, p in enumerate(parts))


def _print_hits(result) -> None:
    for notice in result.notices:
        click.echo(f"note: {notice}", err=True)
    if result.corrected:
        click.echo(f"No hits for {result.request.q!r}; showing results for {result.suggestion!r}.")
    elif result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}?")
    click.echo(f"{result.total} hits (page {result.request.page} of {result.pages})\n")
    for hit in result.hits:
        where = " · ".join(filter(None, [hit.published, hit.section, hit.kind, f"¶{hit.position}"]))
        click.echo(click.style(_terminal_marks(hit.title_html), underline=True) + f"  [{hit.id}]")
        click.echo(f"  {where}")
        click.echo(f"  {_terminal_marks(hit.highlights)}\n")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Worker processes [default: CPU count].")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@_index_option
def serve_command(host: str, port: int, workers: int | None, threads: int, index_dir: Path | None) -> None:
    """Serve the search pages and API with gunicorn (never in debug mode).

    If the index does not exist yet, the bundled sample article is indexed first.
    """
    from .server import run_server

    path = _index_dir(index_dir)
    os.environ["SEARCHAPP_INDEX"] = str(path.absolute())
    try:
        if _settings().backend == "embedded" and not (path / "current").exists():
            click.echo(f"No index at {path}; indexing the bundled sample article first.", err=True)
            _print_summary(_backend(path).build(sample_sources()), "built")
        run_server(host, port, workers or os.cpu_count() or 1, threads)
    except (SearchIndexError, OSError) as error:
        raise _Failure(str(error)) from None
