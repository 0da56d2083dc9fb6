"""Relevance: how well the service ranks, on the judged collections of ../shared/eval, beside plain BM25.

Cranfield (1,400 aeronautics abstracts, 225 questions, graded judgements) and TIME (423
TIME magazine articles of 1963, 83 questions, binary judgements) are converted to the
service's JSON Lines input ({id, title, text}), built with the service's own build into a
temporary folder, and every query runs through the service's own search as a submitted
search (`typing=False`, as the CLI does): the question's text as a person would paste it,
paged (100 a page) until DEPTH distinct articles are ranked, each article at the rank of its
first paragraph. Beside it, in the same run, the eval folders' reference runs: Whoosh BM25F
over title+text with an OR of the question's analysed tokens, and a plain BM25 over text
(reference_baseline.py's approach). Figures are given for each half of the questions (odd
ids "tune", even ids "test", so ranking changes can be tuned on one and checked on the
other) and for all. The BBC typo figures come from bench/typo_robustness.py.

    .venv/bin/python -m bench --parts relevance
    .venv/bin/python -m bench.relevance            # the same, printing the section
"""

from __future__ import annotations

import collections
import json
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from whoosh import scoring
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.query import Or, Term

from searchapp.backends import Backend
from searchapp.search import make_request

from . import typo_robustness
from .common import RESULTS, SHARED, table
from .relevance_metrics import first_hit_per_article, mean, scores
from .service import build, open_search

EVAL = SHARED / "eval"
COLLECTIONS = ("cranfield", "time")
DEPTH = 100  # articles ranked per query; MAP is AP over these
PER_PAGE = 100  # the API's largest page
RUNS = {"service": "searchapp", "bm25f": "Whoosh BM25F title+text (reference)", "bm25": "plain BM25 text"}
REFERENCE_NDCG = {"cranfield": {"bm25f": 0.375, "bm25": 0.355}, "time": {"bm25f": 0.731, "bm25": 0.754}}
TARGET_NDCG = {"cranfield": 0.40, "time": 0.78}
Ranking = dict[str, list[str]]  # query id -> article ids, best first


@dataclass(frozen=True)
class Collection:
    name: str
    docs: list[dict]
    queries: list[dict]  # {"id", "text"}
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> grade


def load_collection(name: str) -> Collection:
    folder = EVAL / name
    if not folder.is_dir():
        raise FileNotFoundError(f"the judged collection {name!r} is not at {folder} (see ../shared/eval/README.md)")
    docs = [json.loads(line) for line in (folder / "docs.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    qrels: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for line in (folder / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, grade = line.split()
        qrels[query_id][doc_id] = int(grade)
    return Collection(name, docs, queries, dict(qrels))


def half(query_id: str) -> str:
    """Odd query ids tune, even ids test."""
    return "tune" if int(query_id) % 2 else "test"


# --- the service ------------------------------------------------------------------------


def searchable(collection: Collection) -> list[dict]:
    """The documents with some text: Cranfield 471 and 995 are empty in the source (no title, no
    abstract), so no run can find them and the service would skip them with a warning."""
    return [doc for doc in collection.docs if doc["title"].strip() or doc["text"].strip()]


def write_jsonl(collection: Collection, folder: Path) -> Path:
    """The collection's searchable documents as the service's JSON Lines input ({id, title, text})."""
    path = folder / f"{collection.name}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for doc in searchable(collection):
            record = {"id": doc["id"], "title": doc["title"], "text": doc["text"] or doc["title"]}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def index_collection(collection: Collection, folder: Path) -> Path:
    """Build the service's index of `collection` in `folder`; returns the index path."""
    index = folder / "index"
    summary = build(index, [write_jsonl(collection, folder)])
    expected = len(searchable(collection))
    if summary.articles != expected:
        raise RuntimeError(f"{collection.name}: {summary.articles} of {expected} articles indexed")
    return index


def user_query(text: str, limit: int) -> str:
    """The question as a person would submit it: whitespace folded, cut at a word boundary to fit `limit`."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit + 1].rsplit(" ", 1)[0]


def service_ranking(search: Backend, text: str, depth: int = DEPTH, typing: bool = False) -> tuple[list[str], dict]:
    """The first `depth` articles the service ranks for `text` (first hit of each), and what the first
    page said: paragraphs matching every word on it (`full`), notices, whether it was corrected."""
    q = user_query(text, search.limits.max_query_length)
    paragraph_articles: list[str] = []
    first = None
    page = 1
    while True:
        request = make_request(q=q, page=page, per_page=PER_PAGE, limits=search.limits)
        result = search.search(request.with_changes(typing=typing))
        first = first or result
        paragraph_articles += [hit.article_id for hit in result.hits]
        articles = first_hit_per_article(paragraph_articles)
        if len(articles) >= depth or page >= result.pages or not result.hits:
            break
        page += 1
    full = len(first.hits) if first.partial_from is None else first.partial_from
    return articles[:depth], {"full": full, "total": first.total, "notices": list(first.notices),
                              "corrected": first.corrected, "pages": page}


def service_run(collection: Collection, index: Path, typing: bool = False) -> tuple[Ranking, dict[str, dict], float]:
    """Every query's ranking, first-page details, and the seconds taken."""
    started = time.perf_counter()
    ranking, details = {}, {}
    with closing(open_search(index)) as search:
        for query in collection.queries:
            ranking[query["id"]], details[query["id"]] = service_ranking(search, query["text"], typing=typing)
    return ranking, details, time.perf_counter() - started


# --- the BM25 references (reference_baseline.py's approach) -----------------------------


def analysed(text: str, analyzer=StemmingAnalyzer()) -> list[str]:
    return [token.text for token in analyzer(text)]


def bm25f_run(collection: Collection, depth: int = DEPTH, fields: Sequence[str] = ("title", "text"),
              query: Callable[[list[str], Sequence[str]], object] | None = None,
              weighting: scoring.WeightingModel | None = None) -> Ranking:
    """Whoosh BM25F (B=0.75, K1=1.2) over an in-memory Whoosh index of `fields`; by default an OR of
    the query's analysed tokens (repeats kept) over every field, as the reference does."""
    schema = Schema(id=ID(stored=True), title=TEXT(analyzer=StemmingAnalyzer()), text=TEXT(analyzer=StemmingAnalyzer()))
    ix = RamStorage().create_index(schema)
    writer = ix.writer()
    for doc in collection.docs:
        writer.add_document(id=doc["id"], title=doc["title"], text=doc["text"])
    writer.commit()
    query = query or (lambda tokens, names: Or([Term(f, t) for f in names for t in tokens]))
    with ix.searcher(weighting=weighting or scoring.BM25F(B=0.75, K1=1.2)) as searcher:
        return {q["id"]: [hit["id"] for hit in searcher.search(query(analysed(q["text"]), fields), limit=depth)]
                for q in collection.queries}


def bm25_run(collection: Collection, depth: int = DEPTH, k1: float = 1.2, b: float = 0.75) -> Ranking:
    """Plain BM25 with Lucene's idf over the text field, in memory, ties by document id."""
    tf = {doc["id"]: collections.Counter(analysed(doc["text"])) for doc in collection.docs}
    lengths = {doc: sum(counts.values()) for doc, counts in tf.items()}
    average, count = sum(lengths.values()) / len(lengths), len(tf)
    postings: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    for doc, counts in tf.items():
        for term, frequency in counts.items():
            postings[term].append((doc, frequency))
    ranking = {}
    for query in collection.queries:
        total: dict[str, float] = collections.defaultdict(float)
        for term, repeats in collections.Counter(analysed(query["text"])).items():
            df = len(postings.get(term, ()))
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            for doc, f in postings.get(term, ()):
                total[doc] += repeats * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[doc] / average))
        ranking[query["id"]] = [d for d, _ in sorted(total.items(), key=lambda item: (-item[1], int(item[0])))][:depth]
    return ranking


# --- scoring and the report ---------------------------------------------------------------


def per_query(collection: Collection, ranking: Ranking) -> dict[str, dict[str, float]]:
    return {q["id"]: scores(ranking.get(q["id"], []), collection.qrels.get(q["id"], {}), DEPTH)
            for q in collection.queries}


def by_half(figures: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean of each figure over the tune half, the test half and all queries."""
    groups = {"tune": [q for q in figures if half(q) == "tune"], "test": [q for q in figures if half(q) == "test"],
              "all": list(figures)}
    names = next(iter(figures.values())).keys()
    return {group: {"queries": len(ids), **{name: round(mean(figures[q][name] for q in ids), 4) for name in names}}
            for group, ids in groups.items()}


def evaluate_collection(name: str) -> dict:
    """Every run's figures by half, with per-query detail, for one collection."""
    collection = load_collection(name)
    with tempfile.TemporaryDirectory(prefix=f"searchapp-relevance-{name}-") as folder:
        started = time.perf_counter()
        index = index_collection(collection, Path(folder))
        built = time.perf_counter() - started
        service, details, seconds = service_run(collection, index)
    runs = {"service": service, "bm25f": bm25f_run(collection), "bm25": bm25_run(collection)}
    figures = {run: per_query(collection, ranking) for run, ranking in runs.items()}
    queries = [{"id": q["id"], "half": half(q["id"]), "text": q["text"], **details[q["id"]],
                "top10": service[q["id"]][:10], "bm25f_top10": runs["bm25f"][q["id"]][:10],
                **{run: {k: round(v, 4) for k, v in figures[run][q["id"]].items()} for run in runs}}
               for q in collection.queries]
    return {"articles": len(searchable(collection)), "queries": len(collection.queries),
            "build_seconds": round(built, 2), "search_seconds": round(seconds, 2),
            "summary": {run: by_half(f) for run, f in figures.items()}, "per_query": queries}


def markdown(results: dict) -> list[str]:
    metric_names = list(results["cranfield"]["summary"]["service"]["all"])[1:]
    rows = []
    for name in COLLECTIONS:
        for run, label in RUNS.items():
            for group, figures in results[name]["summary"][run].items():
                cells = [f"{figures[m]:.3f}" for m in metric_names]
                if run == "service":
                    cells[0] = f"**{cells[0]}**"
                rows.append([name, label, group, figures["queries"], *cells])
    lines = ["## Relevance", "",
             f"Service: its own build and search (a submitted search, {PER_PAGE} a page, first paragraph of each "
             f"article, {DEPTH} articles deep). Halves: odd query ids tune, even ids test. nDCG@10: linear gain, "
             "log2 discount. Reference nDCG@10 (eval READMEs, all queries): "
             + "; ".join(f"{n} BM25F {r['bm25f']}, BM25 {r['bm25']}" for n, r in REFERENCE_NDCG.items())
             + "; targets: " + ", ".join(f"{n} ≥ {t}" for n, t in TARGET_NDCG.items()) + ".", ""]
    lines += table(["collection", "run", "half", "queries", *metric_names], rows)
    lines += ["", "; ".join(f"{name}: {r['articles']} articles built in {r['build_seconds']} s, {r['queries']} "
                            f"queries searched in {r['search_seconds']} s"
                            for name, r in ((name, results[name]) for name in COLLECTIONS)) + ".", ""]
    return lines


def run() -> list[str]:
    """The relevance part: both collections, then the BBC typo figures; writes results/relevance.json."""
    results = {name: evaluate_collection(name) for name in COLLECTIONS}
    results["typos"] = typo_robustness.measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "relevance.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return markdown(results) + typo_robustness.markdown(results["typos"])


if __name__ == "__main__":
    print("\n".join(run()))
