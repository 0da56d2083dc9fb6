"""Shared pieces of the benchmarks: paths, paragraphs, servers, a keep-alive client, statistics.

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
# The searchapp code under test: the working tree, or a snapshot (bench/run.sh --snapshot puts
# `git archive HEAD` in /tmp) so that edits made meanwhile in the checkout do not change what is measured.
CODE = Path(os.environ.get("SEARCHAPP_BENCH_CODE") or REPO).resolve()
if CODE != REPO:
    sys.path.insert(0, str(CODE))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE), os.environ.get("PYTHONPATH")]))

from searchapp.articles import ReadReport, read_articles  # noqa: E402  (after choosing the code)
from searchapp.paragraphs import Paragraph, split_paragraphs  # noqa: E402

SHARED = REPO / ".." / "shared"
CORPORA = {
    "bbc": SHARED / "corpus" / "bbc" / "articles.jsonl",
    "reuters": SHARED / "corpus" / "reuters21578" / "articles.jsonl",
}
VENV_BIN = REPO / ".venv" / "bin"
DATASETTE_VENV = Path("/tmp/dsvenv")
SCRATCH = Path("/tmp/searchapp-bench")
# searchapp runs here, not in the checkout: its build workers (`python -c`) import from the working folder first
RUN_DIR = SCRATCH
RESULTS = REPO / "bench" / "results"
QUERIES_FILE = REPO / "bench" / "queries.json"
HOST = "127.0.0.1"

# facet name (searchapp URL parameter) -> datasette filter parameter
DATASETTE_FILTERS = {
    "topic": "topic__arraycontains", "section": "section", "kind": "kind", "author": "author",
    "source": "source", "published": "month", "article": "article_id",
}


def paragraphs(sources: Sequence[Path]) -> Iterator[Paragraph]:
    """The paragraphs searchapp would index from `sources` (first of duplicate article ids kept)."""
    seen: set[str] = set()
    for article in read_articles(list(sources), ReadReport()):
        if article.id in seen:
            continue
        seen.add(article.id)
        yield from split_paragraphs(article)


def month(paragraph: Paragraph) -> str:
    return paragraph.published[:7]


def topics(paragraph: Paragraph) -> list[str]:
    """Topic values as searchapp indexes them (`;`-separated in sources, spaces become `_`)."""
    return [t.strip().replace(" ", "_") for t in paragraph.topic.split(";") if t.strip()]


# --- data sets and their indexes -----------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Named sources with one searchapp index, naive index and SQLite database each, under SCRATCH."""

    name: str
    sources: tuple[Path, ...]
    queries: str  # which corpus's query mix fits it

    @property
    def searchapp_index(self) -> Path:
        return SCRATCH / f"searchapp-{self.name}"

    @property
    def naive_index(self) -> Path:
        return SCRATCH / f"naive-{self.name}"

    @property
    def datasette_db(self) -> Path:
        return SCRATCH / f"datasette-{self.name}" / "db.db"


DATASETS = {name: Dataset(name, (source,), name) for name, source in CORPORA.items()}
SERVING_ONLY = {"web", "search", "server.py", "cli.py", "__pycache__", "templates", "static"}


def code_stamp() -> str:
    """A digest of the searchapp code under test, less what only serves (web, search): indexes built
    by other code are rebuilt."""
    digest = hashlib.sha1()
    package = CODE / "searchapp"
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.relative_to(package).parts[0] not in SERVING_ONLY and path.suffix != ".pyc":
            digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
    return digest.hexdigest()


def _stamp_file(index: Path) -> Path:
    return index.with_name(index.name + ".code")


def stale(index: Path) -> bool:
    """True if searchapp `index` is missing or was built by other indexing code than the code under test."""
    stamp = _stamp_file(index)
    return not (index / "current").exists() or not stamp.exists() or stamp.read_text() != code_stamp()


def mark_built(index: Path) -> None:
    _stamp_file(index).write_text(code_stamp())


def run_step(argv: list[str], cwd: Path = REPO) -> None:
    """Run a preparation command, its output to the terminal's stderr; raise if it fails."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(argv, check=True, cwd=cwd, stdout=sys.stderr)


def prepare(dataset: Dataset, servers: Sequence[str]) -> None:
    """Build whichever of the three indexes `servers` need and are missing (or stale)."""
    python = str(VENV_BIN / "python")
    sources = [str(s) for s in dataset.sources]
    if "searchapp" in servers and stale(dataset.searchapp_index):
        run_step([str(VENV_BIN / "searchapp"), "index", "build", "--index", str(dataset.searchapp_index), *sources],
                 RUN_DIR)
        mark_built(dataset.searchapp_index)
    if "naive" in servers and not (dataset.naive_index / "_MAIN_1.toc").exists():
        shutil.rmtree(dataset.naive_index, ignore_errors=True)
        run_step([python, "-m", "bench.naive_app", "build", "--index", str(dataset.naive_index), *sources])
    if "datasette" in servers and not dataset.datasette_db.exists():
        run_step([python, "-m", "bench.datasette_setup", "--db", str(dataset.datasette_db), *sources])


# --- queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    q: str
    filters: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.filters.items())
        return f"{self.q} {extra}".strip()


def load_queries(corpus: str, part: str = "measure") -> list[Query]:
    """The fixed query mix of `corpus` (`part`: "warmup" or "measure")."""
    data = json.loads(QUERIES_FILE.read_text())
    return [Query(**item) for item in data[corpus][part]]


def search_path(server: str, query: Query, page: int = 1) -> str:
    """The URL path asking `server` ("searchapp", "naive" or "datasette") for `query`'s top 10."""
    if server == "datasette":
        params = {"_search": query.q, "_facet_array": "topic", "_size": "10"}
        params.update({DATASETTE_FILTERS[k]: v for k, v in query.filters.items()})
        return "/db/paragraphs.json?" + urlencode(params)
    return "/api/search?" + urlencode({"q": query.q, **query.filters, "per_page": "10", "page": str(page)})


# --- a keep-alive client ----------------------------------------------------------------


class Client:
    """One reused HTTP/1.1 connection to 127.0.0.1; reconnects after an error."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes, float]:
        """(status, body, seconds); status 0 means the request failed.

        Like browsers and urllib3, a GET on a kept-alive connection that the server
        closed meanwhile is retried once on a new connection.
        """
        started = time.perf_counter()
        reused = self._conn is not None
        try:
            return (*self._get(path), time.perf_counter() - started)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                return 0, b"", time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b"", time.perf_counter() - started
        try:
            return (*self._get(path), time.perf_counter() - started)
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b"", time.perf_counter() - started

    def _get(self, path: str) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        self._conn.request("GET", path)
        response = self._conn.getresponse()
        body = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, body

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def start_server(name: str, argv: list[str], port: int, ready_path: str, timeout: float = 120.0,
                 env: dict[str, str] | None = None, cwd: Path = REPO) -> Server:
    """Start `argv` in its own process group and wait until GET `ready_path` answers 200."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log_path = SCRATCH / f"{name}-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    server = Server(name, port, process, log_path)
    wait_ready(server, ready_path, timeout)
    return server


def wait_ready(server: Server, path: str, timeout: float) -> float:
    """Seconds until GET `path` answered 200; raises if the server died or took too long."""
    started = time.perf_counter()
    client = Client(server.port, timeout=5.0)
    while time.perf_counter() - started < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}); see {server.log_path}")
        status, _, _ = client.get(path)
        if status == 200:
            client.close()
            return time.perf_counter() - started
        time.sleep(0.05)
    stop_server(server)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s; see {server.log_path}")


def stop_server(server: Server) -> None:
    """SIGTERM the server's own process group, SIGKILL it if it lingers."""
    if server.process.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.process.wait()


def searchapp_server(index: Path, port: int, workers: int | None = None, threads: int | None = None,
                     env: dict[str, str] | None = None) -> Server:
    argv = [str(VENV_BIN / "searchapp"), "serve", "--host", HOST, "--port", str(port), "--index", str(index)]
    argv += ["--workers", str(workers)] if workers else []
    argv += ["--threads", str(threads)] if threads else []
    return start_server("searchapp", argv, port, "/healthz", env=env, cwd=RUN_DIR)


def naive_server(index: Path, source: Path, port: int, workers: int | None = None,
                 threads: int | None = None) -> Server:
    argv = [str(VENV_BIN / "python"), "-m", "bench.naive_app", "serve", "--port", str(port),
            "--index", str(index), str(source)]
    argv += ["--workers", str(workers)] if workers else []
    argv += ["--threads", str(threads)] if threads else []
    return start_server("naive", argv, port, "/floor", timeout=1800)


def datasette_server(db: Path, port: int) -> Server:
    argv = [str(DATASETTE_VENV / "bin" / "datasette"), "serve", str(db), "--host", HOST, "--port", str(port),
            "--setting", "suggest_facets", "off", "--setting", "facet_time_limit_ms", "5000",
            "--setting", "sql_time_limit_ms", "10000"]
    return start_server("datasette", argv, port, "/-/versions.json")


# --- processes and memory -------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct child processes of `pid`."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    result, stack = [], [pid]
    while stack:
        kids = children(stack.pop())
        result += kids
        stack += kids
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def gunicorn_workers(server: Server) -> list[int]:
    """The gunicorn worker pids of a server started by `searchapp serve` or the naive app."""
    procs = [server.pid, *descendants(server.pid)]
    masters = [p for p in procs if children(p) and _cmdline(p).find("gunicorn") >= 0] or [server.pid]
    master = masters[0]
    workers = children(master)
    return workers or [master]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def workers_rss_mb(server: Server) -> list[float]:
    return [round(rss_mb(pid), 1) for pid in gunicorn_workers(server)]


# --- statistics and output --------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def write_section(name: str, lines: Sequence[str]) -> Path:
    """Save a markdown section to bench/results/NAME.md (assembled by `python -m bench`)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
