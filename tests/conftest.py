"""Shared fixtures: small indexes built in temp folders with the real `build_index`.

- `sample_index`: built once per session from the bundled sample + `tests/fixtures`; read-only.
- `index_dir`: the same sources built fresh in this test's `tmp_path`; safe to update or rebuild.
- `search`: a `Search` on `sample_index`.
- `shared_corpus`: `../shared/corpus` beside the repository, or the test is skipped.
- `backend_sources`: the sample, `tests/fixtures`, the web tests' articles and a few more (JSON
  Lines): what the backend behaviour suite (tests/backends/) and tests/opensearch/ index.
- `opensearch_url`: a real one-node OpenSearch cluster for the session (tests/opensearch_cluster.py);
  skipped when java, javac, mvn or curl is missing, except under CI=true, where that fails.
- `searchapp_command`: the argv that runs the real `searchapp` command in a subprocess.
- `article_text`, `write_article`, `write_articles`: hand-made articles in the sample's text layout.

Test modules take these as fixtures rather than importing this file: a second
conftest.py (tests/browser/) would shadow a plain `import conftest`.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opensearch_cluster import local_cluster

from searchapp.articles import sample_sources
from searchapp.backends.embedded import EmbeddedBackend
from searchapp.backends.embedded.build import build_index

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # the repository's sibling; beside the clone in CI


def index_sources() -> list[Path]:
    """The bundled sample and `tests/fixtures`: 8 articles, 39 paragraphs.

    The seed (20 paragraphs), four fixture articles (bakery-cp1252 2, bridge-page-break 8,
    ferry-crlf 2, script-injection 2) and three JSON lines (wire-001 2, wire-003 2, wire-004 1);
    empty.txt, binary.txt and wire.jsonl lines 2 and 3 are skipped with warnings.
    """
    return [*sample_sources(), FIXTURES]


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the bundled sample and `tests/fixtures`, built once; do not modify it."""
    path = tmp_path_factory.mktemp("sample-index") / "index"
    build_index(path, index_sources())
    return path


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """A fresh index of the bundled sample and `tests/fixtures` in this test's `tmp_path`."""
    path = tmp_path / "index"
    build_index(path, index_sources())
    return path


@pytest.fixture
def search(sample_index: Path) -> EmbeddedBackend:
    """The embedded backend on the session's sample index, without a result cache."""
    return EmbeddedBackend(sample_index, cache_size=0)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """`../shared/corpus` (BBC and Reuters test corpora), or skip when it is not there."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"the shared test corpora are not at {corpus}")
    return corpus


# --- hand-made articles ---------------------------------------------------------------

WORDS = (
    "harbour council bridge river market grain ferry station budget school teacher hospital "
    "weather storm rain summer winter election minister vote party union factory workers train "
    "road airport flight ticket price bread coffee festival music film theatre museum library "
    "garden forest mountain village island coast fishing boat cargo port trade"
).split()


def article_text(title: str, paragraphs: list[str], author: str = "Test Desk",
                 published: str = "March 3, 2025", url: str = "") -> str:
    """An article in the bundled sample's layout (two blank lines first, no final newline)."""
    parts = ["", "", title, "", f"By <u>{author}</u>", "", published, "", "", "", "\n\n".join(paragraphs)]
    if url:
        parts += ["", "Original url:", "", url]
    return "\n".join(parts)


def _write_article(folder: Path, name: str, title: str, paragraphs: list[str], **fields: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(article_text(title, paragraphs, **fields), encoding="utf-8")
    return path


def _write_articles(folder: Path, count: int, paragraphs: int = 1, words: int = 12, seed: int = 1,
                    prefix: str = "synthetic") -> list[Path]:
    """`count` articles of random words, each with `paragraphs` paragraphs of `words` words."""
    rnd = random.Random(seed)

    def sentence() -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(words)).capitalize() + "."

    return [
        _write_article(folder, f"{prefix}-{number:05d}", f"{sentence()[:-1].title()} {number}",
                       [sentence() for _ in range(paragraphs)])
        for number in range(count)
    ]


@pytest.fixture(name="article_text", scope="session")
def article_text_fixture() -> Callable[..., str]:
    """`article_text(title, paragraphs, author=…, published=…, url=…)` -> text in the sample's layout."""
    return article_text


@pytest.fixture(scope="session")
def write_article() -> Callable[..., Path]:
    """`write_article(folder, name, title, paragraphs, author=…, published=…, url=…)` -> the file."""
    return _write_article


@pytest.fixture(scope="session")
def write_articles() -> Callable[..., list[Path]]:
    """`write_articles(folder, count, paragraphs=1, words=12, seed=1, prefix=…)` -> the files."""
    return _write_articles


@pytest.fixture(scope="session")
def searchapp_command() -> list[str]:
    """The argv prefix that runs the installed `searchapp` command of this environment."""
    script = Path(sys.executable).with_name("searchapp")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from searchapp.cli import main; sys.exit(main(prog_name='searchapp'))"]


@pytest.fixture(scope="session")
def web_index(tmp_path_factory):
    """An index of the sample article and the web tests' articles (tests/webapp.py); read-only."""
    from webapp import build_web_index

    return build_web_index(tmp_path_factory.mktemp("web"))


@pytest.fixture
def readers():
    """Collects index readers and closes them after the test."""
    opened = []
    yield opened
    for reader in opened:
        reader.close()


EXTRA_ARTICLES = [
    {"id": "globe-hamlet", "title": "A night at the Globe",
     "text": "The actor paused and began: to be or not to be, that is the question.\n\n"
             "The audience rose to applaud the performance of the season.",
     "date": "2024-05-01", "author": "Arts Desk", "source": "arts.example.org", "topic": "culture;theatre"},
    {"id": "council-election", "title": "Council election results announced",
     "text": "The elections were held on Sunday across the district.\n\n"
             "Turnout in the election rose to sixty percent, the council said.\n\n"
             "A quorum was reached early in the morning. " + "The count went on through the night and "
             "volunteers carried the ballot boxes from the schools to the town hall, where the clerks "
             "sorted them by ward and by street while observers from every party watched. " * 3
             + "By dawn the second quorum had confirmed the result.",
     "date": "2023-01-15", "author": "Civic Desk", "source": "civic.example.org", "topic": "politics"},
    {"id": "city-rates", "title": "Rates held in the City",
     "text": "The Bank of England kept its rate unchanged on Thursday.\n\n"
             "A bank in England, and one in Wales, cut their mortgage rates instead.",
     "date": "2024-08-01", "author": "City Desk", "source": "city.example.org", "topic": "business"},
]


@pytest.fixture(scope="session")
def backend_sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample, `tests/fixtures`, `EXTRA_ARTICLES` and the web tests' articles."""
    from webapp import write_web_corpus

    folder = tmp_path_factory.mktemp("backend-sources")
    extra = folder / "extra.jsonl"
    extra.write_text("\n".join(json.dumps(a) for a in EXTRA_ARTICLES) + "\n", encoding="utf-8")
    return [*index_sources(), extra, write_web_corpus(folder / "web")]


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a one-node OpenSearch cluster running for the session."""
    with local_cluster(tmp_path_factory.mktemp("opensearch")) as nodes:
        yield nodes[0].url
