"""Reading source files into `Article` records: the seed's layout, its quirks, JSON Lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from searchapp.articles import (
    Article,
    ArticleParseError,
    Block,
    ReadReport,
    SkippedSource,
    decode_source,
    parse_date,
    parse_json_article,
    parse_text_article,
    read_articles,
    sample_sources,
)

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLE_FILE = next(sample_sources()[0].glob("*.txt"))

SEED_URL = (
    "https://www.themoscowtimes.com/2025/02/12/"
    "syria-leader-stresses-strong-strategic-ties-in-call-with-russias-putin-a87973"
)

SEED_ARTICLE = Article(
    id="syria-russia-strategic-ties-2025-02-12",
    title="Syria Leader Stresses 'Strong Strategic Ties' in Call With Russia's Putin",
    author="AFP",
    published="2025-02-12",
    source="themoscowtimes.com",
    url=SEED_URL,
    credit="kremlin.ru",
    origin=str(SAMPLE_FILE),
    blocks=(
        Block('Syria\'s interim leader Ahmed al-Sharaa emphasized the "strong strategic ties" between his country and Russia during his first telephone call with President Vladimir Putin since taking power, the Syrian presidency said Wednesday.'),
        Block("Rebels led by Sharaa's Islamist group Hayat Tahrir al-Sham ousted Moscow's close ally Bashar al-Assad in December after a lightning offensive, and questions have remained over the fate of Russia's two military bases in the war-torn country."),
        Block('Sharaa emphasized "the strong strategic ties between the two countries and Syria\'s openness to all parties" in a way that serves "the interests of the Syrian people and strengthens Syria\'s stability and security," the presidency statement said.'),
        # the page break after "al-Shaibani to" is repaired: one paragraph
        Block('It also said Putin extended "an official invitation to Foreign Minister Asaad al-Shaibani to visit Russia."'),
        Block('The Kremlin, in a readout of the call, said Putin wished Sharaa "success... in solving the tasks facing the new leadership of the country for the benefit of the Syrian people."'),
        Block('"The Russian side emphasized its principled position in support of the unity, sovereignty and territorial integrity of the Syrian state," it added.'),
        Block("Syria Could Let Russia Keep Air and Naval Bases, New Defense Minister Says", "related"),
        Block("Moscow helped keep Assad in power when it intervened militarily in Syria's war in 2015, launching devastating strikes on rebel-held areas."),
        Block("When rebels swept into Damascus in December, Russia granted Assad asylum, angering many Syrians including the country's new rulers."),
        Block("Russia is seeking to secure the fate of its naval base in Tartus and its air base at Khmeimim — both on Syria's Mediterranean coast and Moscow's only military bases outside the former Soviet Union — with the new Syrian authorities."),
        Block("Both were left vulnerable after Assad was ousted, in a major setback for Russia's foreign policy."),
        Block("Building a new Syria", "heading"),
        Block('The Syrian presidency also said the two leaders exchanged "views on the current situation in Syria and the political roadmap for building a new Syria."'),
        Block('Last month, Syria\'s new leadership urged Moscow to "address past mistakes" during talks in Damascus with Russian officials that touched on "the brutal war waged by the Assad regime."'),
        Block("Russia's Deputy Foreign Minister Mikhail Bogdanov said he and his delegation had met for three hours with Sharaa and Shaibani."),
        # a title wrapped over two <u> spans, joined
        Block("Syria's New Leadership Urges Russia to 'Address Past Mistakes' in First Talks Since Assad's Ouster", "related"),
        Block('Russia\'s Foreign Ministry said that visit came at a "crunch point" in Russia-Syria relations, with Kremlin spokesman Dmitry Peskov calling it an "important trip."'),
        Block("Peskov at the time declined to comment on reports that Syria's new rulers had requested Assad's extradition and to be paid compensation by Moscow."),
        Block('Sharaa in an interview in December with Al-Arabiya TV channel noted the "deep strategic interests between Russia and Syria."'),
        Block('"All Syria\'s arms are of Russian origin, and many power plants are managed by Russian experts... We do not want Russia to leave Syria in the way that some wish," he said.'),
        Block("Diplomats from Ukraine, where Russia has been waging a full-scale invasion since 2022, visited Syria's new rulers in December, with Foreign Minister Andriy Sybiga urging Sharaa to expel Russia from the country."),
    ),
)


def read_all(*sources: Path) -> tuple[list[Article], ReadReport]:
    report = ReadReport()
    return list(read_articles(sources, report)), report


def parse_fixture(name: str) -> Article:
    path = FIXTURES / name
    return parse_text_article(decode_source(path.read_bytes(), path), path.stem, origin=str(path))


# --- the seed article ------------------------------------------------------------------


def test_seed_article_is_parsed_into_the_whole_expected_record():
    articles, report = read_all(SAMPLE_FILE.parent)
    assert articles == [SEED_ARTICLE]
    assert report.skipped == [] and report.files == 1
    assert len(articles[0].content_hash) == 24


def test_seed_layout_lines_and_markup_are_not_in_the_body():
    body = "\n".join(block.text for block in SEED_ARTICLE.blocks)
    for gone in ("<u>", "</u>", "By AFP", "February 12, 2025", "kremlin.ru", "Original url", "themoscowtimes", "Related article"):
        assert gone not in body
    parsed = parse_text_article(SAMPLE_FILE.read_text(encoding="utf-8"), SEED_ARTICLE.id, str(SAMPLE_FILE))
    assert "\n".join(block.text for block in parsed.blocks) == body


def test_bundled_sample_is_a_verbatim_copy_of_the_shared_seed():
    seed = SHARED / "seed" / SAMPLE_FILE.name
    if not seed.is_file():
        pytest.skip(f"no shared seed at {seed}")
    assert SAMPLE_FILE.read_bytes() == seed.read_bytes()


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_windows_and_old_mac_line_ends_parse_like_unix_ones(line_end):
    text = SAMPLE_FILE.read_text(encoding="utf-8").replace("\n", line_end)
    assert parse_text_article(text, SEED_ARTICLE.id, str(SAMPLE_FILE)) == SEED_ARTICLE


def test_content_hash_changes_with_the_text_only():
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    same = parse_text_article(text, "a", origin="x").content_hash
    assert parse_text_article(text, "a", origin="y").content_hash == same
    assert parse_text_article(text.replace("Wednesday", "Thursday"), "a").content_hash != same


# --- the hand-written fixtures -------------------------------------------------------------


def test_fixture_with_every_layout_quirk_is_parsed_into_the_whole_expected_record():
    assert parse_fixture("bridge-page-break.txt") == Article(
        id="bridge-page-break",
        # the title is wrapped over two lines and has <u> markup
        title="Council Approves Riverside Bridge After 'Long and Patient' Debate",
        author="Maria Lindqvist",
        published="2025-03-14",
        source="example.org",
        url="https://www.example.org/news/2025/03/14/council-approves-riverside-bridge-after-debate",
        credit="Photo: Example Photo Agency",
        origin=str(FIXTURES / "bridge-page-break.txt"),
        blocks=(
            Block("The city council voted on Thursday to approve a new footbridge over the river, ending a debate that lasted almost three years."),
            Block('Supporters said the bridge would link the old town with the "growing neighbourhoods on the eastern bank" and cut the walk to the station by twenty minutes.'),
            Block('"We have waited long enough for this crossing, and the people who use it every day deserve it," said councillor Tomas Berg.'),
            Block("Ferry Timetable Changes Announced for the Spring Season", "related"),
            Block("Opponents had argued that the money should go to road repairs instead."),
            Block("Building the crossing", "heading"),
            Block("Construction is expected to begin in the autumn and to take about eighteen months."),
            Block("The design includes a wide deck for cyclists and a viewing platform in the middle of the span."),
            Block("Council Publishes Budget for Road Repairs", "related"),
        ),
    )


def test_crlf_fixture_really_has_crlf_and_parses():
    path = FIXTURES / "ferry-crlf.txt"
    assert b"\r\n" in path.read_bytes(), "the fixture lost its CRLF line ends (check git's autocrlf)"
    article = parse_fixture("ferry-crlf.txt")
    assert (article.title, article.author, article.published, article.url) == (
        "Harbour Ferry Returns to Winter Timetable", "Harbour Desk", "2025-03-05",
        "https://news.example.net/harbour/ferry-winter-timetable",
    )
    assert [block.text for block in article.blocks] == [
        "The harbour ferry will run every forty minutes from Monday, the operator said.",
        "Passengers asked for earlier departures on weekdays, and the operator agreed to add one boat at six in the morning.",
    ]
    assert not any("\r" in block.text for block in article.blocks)


def test_cp1252_file_is_read_with_a_warning_naming_it(caplog):
    path = FIXTURES / "bakery-cp1252.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"):
        articles, report = read_all(path)
    assert [r.getMessage() for r in caplog.records] == [f"{path} is not valid UTF-8; read as cp1252"]
    assert report.skipped == []
    [article] = articles
    assert article.title == "Village Bakery Café Wins Regional Award"
    assert [block.text for block in article.blocks] == [
        "The bakery’s rye loaf, sold for £3 – the same price as last year – won first prize at the regional fair.",
        "“We bake it the way my grandmother did,” the owner said.",
    ]


def test_utf8_with_byte_order_mark_is_read_without_warning(caplog):
    data = "\ufeffTitle With Accents: Zoë\n\nA paragraph about the café.".encode()
    with caplog.at_level(logging.WARNING):
        text = decode_source(data, Path("bom.txt"))
    assert text == "Title With Accents: Zoë\n\nA paragraph about the café."
    assert caplog.records == []


def test_script_and_img_tags_are_kept_as_text_for_the_views_to_escape():
    article = parse_fixture("script-injection.txt")
    assert article.title == "Test Article With <script>alert(1)</script> in the Title"
    assert [block.text for block in article.blocks] == [
        "This paragraph mentions <script>alert(1)</script> inside the body text, which must be shown as text.",
        "An image tag <img src=x onerror=alert(1)> must never run when a result is displayed.",
    ]


@pytest.mark.parametrize(("name", "reason"), [("empty.txt", "the file is empty"), ("binary.txt", "binary file")])
def test_empty_and_binary_files_are_skipped_with_a_warning_naming_them(caplog, name, reason):
    path = FIXTURES / name
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"):
        articles, report = read_all(path)
    assert articles == []
    assert report.skipped == [SkippedSource(str(path), reason)]
    assert [r.getMessage() for r in caplog.records] == [f"skipped {path}: {reason}"]


# --- layout edge cases -----------------------------------------------------------------------


DATES = [
    ("February 12, 2025", "2025-02-12"),
    ("Feb 12, 2025", "2025-02-12"),
    ("Feb. 12, 2025", "2025-02-12"),
    ("feb 12 2025", "2025-02-12"),
    ("Sept. 3, 2024", "2024-09-03"),
    ("12 February 2025", "2025-02-12"),
    ("12th February, 2025", "2025-02-12"),
    ("1st of March 2025", "2025-03-01"),
    ("Wednesday, February 12, 2025", "2025-02-12"),
    ("Wed. 12 Feb 2025", "2025-02-12"),
    ("Friday, 14th March 2025", "2025-03-14"),
    ("February 12, 2025 at 10:30 am", "2025-02-12"),
    ("February 12, 2025, 14:05 GMT", "2025-02-12"),
    ("12 February 2025 09:00", "2025-02-12"),
    ("2025-02-12", "2025-02-12"),
    ("2025-2-3", "2025-02-03"),
    ("2025-02-12T10:30:00", "2025-02-12"),
    ("2025-02-12T10:30:00Z", "2025-02-12"),
    ("2025-02-12 10:30:00+03:00", "2025-02-12"),
    ("  February 12, 2025  ", "2025-02-12"),
    # not dates, or impossible ones
    ("February 30, 2025", ""),
    ("2025-13-01", ""),
    ("February 2025", ""),
    ("12/02/2025", ""),
    ("Syria's war in 2015", ""),
    ("", ""),
    ("ſept 12, 2025", ""),  # U+017F folds to 's' only under Unicode case folding
    ("Sept 12, ２０２５", ""),  # full-width digits
]


@pytest.mark.parametrize(("text", "iso"), DATES, ids=[text or "empty" for text, _ in DATES])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("date_line", ["12 February 2025", "Wednesday, February 12, 2025", "2025-02-12", "Feb. 12, 2025 at 9:15 pm"])
def test_date_line_of_the_layout_in_several_forms(article_text, date_line):
    text = article_text("A Title", ["One paragraph."], published=date_line)
    assert parse_text_article(text, "a").published == "2025-02-12"


def test_article_without_byline_date_or_url():
    article = parse_text_article("Just a Title\n\nOne paragraph of text.", "bare")
    assert article == Article(id="bare", title="Just a Title", blocks=(Block("One paragraph of text."),))


def test_header_fields_are_taken_once_and_sentences_stay_body_text(article_text):
    text = article_text("A Title", [
        "By the end of the day, the talks had failed.",
        "Sources said so.",
        "By Another Writer",
    ])
    article = parse_text_article(text, "a")
    assert article.author == "Test Desk" and article.credit == ""
    assert [block.text for block in article.blocks] == [
        "By the end of the day, the talks had failed.", "Sources said so.", "By Another Writer",
    ]


def test_short_first_paragraph_that_reads_like_a_source_is_not_a_credit(article_text):
    article = parse_text_article(article_text("A Title", ["Sources close to the deal said it was off.", "More."]), "a")
    assert article.credit == ""
    assert article.blocks[0] == Block("Sources close to the deal said it was off.")


@pytest.mark.parametrize("credit", ["Photo: Jane Roe", "AFP/Getty Images", "kremlin.ru", "© Example Agency", "Mikhail Metzel / TASS"])
def test_photo_credit_forms(article_text, credit):
    text = article_text("A Title", [credit, "The paragraph."])
    article = parse_text_article(text, "a")
    assert article.credit == credit
    assert article.blocks == (Block("The paragraph."),)


def test_page_break_joins_only_a_lower_case_continuation_of_an_unfinished_sentence(article_text):
    text = article_text("A Title", [
        "The minister said the plan was",  # cut mid-sentence
        "agreed on Monday.",
        "The vote ended.",
        "nothing joins a finished sentence.",
        "A list follows:",
        "and a colon ends a lead-in.",
    ])
    assert [block.text for block in parse_text_article(text, "a").blocks] == [
        "The minister said the plan was agreed on Monday.",
        "The vote ended.",
        "nothing joins a finished sentence.",
        "A list follows:",
        "and a colon ends a lead-in.",
    ]


def test_heading_needs_full_sentences_around_it(article_text):
    text = article_text("A Title", ["A full sentence.", "A New Chapter", "Another sentence.", "Year", "1987"])
    assert parse_text_article(text, "a").blocks == (
        Block("A full sentence."), Block("A New Chapter", "heading"), Block("Another sentence."),
        Block("Year"), Block("1987"),
    )


@pytest.mark.parametrize(("url_lines", "url"), [
    (["Original url: https://example.com/a b"], "https://example.com/ab"),
    (["Original url:", "https://example.com/a-very-long-\npath"], "https://example.com/a-very-long-path"),
    (["Original url:\nhttps://example.com/a-very-long-\npath"], "https://example.com/a-very-long-path"),
    (["Original url: https://example.com/a-\npath"], "https://example.com/a-path"),
    (["ORIGINAL URL: <u>https://www.example.com/x</u>"], "https://www.example.com/x"),
])
def test_original_url_is_repaired_and_no_paragraph(article_text, url_lines, url):
    text = article_text("A Title", ["The paragraph.", *url_lines])
    article = parse_text_article(text, "a")
    assert (article.url, article.blocks) == (url, (Block("The paragraph."),))
    assert article.source == "example.com"


@pytest.mark.parametrize("url_lines", [
    ["Original url:", "https://example.com/a87973"],
    ["Original url:\nhttps://example.com/a87973"],
    ["Original url: https://example.com/a87973"],
], ids=["next-block", "same-block", "same-line"])
def test_paragraphs_after_the_url_block_stay_paragraphs(article_text, url_lines):
    """The URL ends at the first blank line after it; what follows is body text, not more URL."""
    after = ["The committee met in Latakia on Thursday.", "It meets again in May."]
    text = article_text("A Title", ["The paragraph.", *url_lines, *after])
    article = parse_text_article(text, "a")
    assert article.url == "https://example.com/a87973"
    assert article.blocks == (Block("The paragraph."), *map(Block, after))


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("\n \n\t\n\x00\n", "the file is empty"),
    ("A Title Alone", "the article has a title but no paragraphs"),
    ("A Title\n\nBy Someone\n\nMarch 1, 2025", "the article has a title but no paragraphs"),
])
def test_text_without_an_article_raises(text, message):
    with pytest.raises(ArticleParseError, match=message):
        parse_text_article(text, "a")


# --- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_bad_lines_are_skipped_with_file_and_line_and_the_rest_is_read(caplog):
    path = FIXTURES / "wire.jsonl"
    with caplog.at_level(logging.WARNING, logger="searchapp.articles"):
        articles, report = read_all(path)
    assert [a.id for a in articles] == ["wire-001", "wire-003", "wire-004"]
    assert report.skipped == [
        SkippedSource(f"{path}:2", "not valid JSON (Unterminated string starting at column 57)"),
        SkippedSource(f"{path}:3", "the record has no 'id'"),
    ]
    assert [r.getMessage() for r in caplog.records] == [f"skipped {s.path}: {s.reason}" for s in report.skipped]


def test_jsonl_records_become_whole_articles():
    articles, _ = read_all(FIXTURES / "wire.jsonl")
    origin = str(FIXTURES / "wire.jsonl")
    assert articles == [
        Article(id="wire-001", title="Grain Harvest Beats Forecast", author="Ana Ruiz", published="2025-01-07",
                source="Example Wire", topic="grain;farming", origin=origin, blocks=(
                    Block("Farmers brought in more grain than expected this season."),
                    Block("Prices at the market fell for the first time in two years."))),
        # a raw U+2028 inside a string does not end the JSON line; CRLF inside the text is a paragraph break
        Article(id="wire-003", title="Storm Closes Coastal Road", published="2025-01-08", source="wire.example.com",
                url="https://wire.example.com/storm-coastal-road", topic="weather", origin=origin, blocks=(
                    Block("The coastal road was closed overnight after a storm\u2028 brought down trees."),
                    Block("Crews expect to reopen it by noon."))),
        Article(id="wire-004", title="Library Extends Opening Hours", published="2025-01-09",
                topic="culture;education", origin=origin, blocks=(
                    Block("The town library will stay open until nine in the evening on weekdays."),)),
    ]


def test_jsonl_with_crlf_line_ends(tmp_path):
    path = tmp_path / "crlf.jsonl"
    lines = [json.dumps({"id": f"r{n}", "text": f"Paragraph {n}.\r\n\r\nSecond {n}."}) for n in range(3)]
    path.write_bytes("\r\n".join(lines).encode())
    articles, report = read_all(path)
    assert [(a.id, [b.text for b in a.blocks]) for a in articles] == [
        (f"r{n}", [f"Paragraph {n}.", f"Second {n}."]) for n in range(3)
    ]
    assert report.skipped == []


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "a line must hold a JSON object"),
    ('"a string"', "a line must hold a JSON object"),
    ('{"text": "Some text."}', "no 'id'"),
    ('{"id": "", "text": "Some text."}', "no 'id'"),
    ('{"id": "a"}', "no 'text'"),
    ('{"id": "a", "text": 5}', "no 'text'"),
    ('{"id": "a", "text": " \\n\\u0000 "}', "no 'text'"),
    ('{"id": "a", "text": "x", "title": {"en": "t"}}', "field 'title' must be a string"),
    ('{"id": {"x": 1}, "text": "x"}', "field 'id' must be a string"),
    ("1" * 5000, "not valid JSON"),  # int() refuses over 4300 digits with a plain ValueError
    ("[" * 100_000, "not valid JSON"),  # RecursionError in the decoder
])
def test_bad_json_records_raise_article_parse_error(line, message):
    with pytest.raises(ArticleParseError, match=message):
        parse_json_article(line)


def test_json_record_values_are_cleaned():
    article = parse_json_article(json.dumps({
        "id": 42, "title": "  A\ttitle \u0007 here ", "text": "Bad \ud800 surrogate.",
        "author": "<u>Ann</u>", "url": "https://example.com/a b", "topic": ["x", "y"],
    }))
    assert (article.id, article.title, article.author, article.url, article.source, article.topic) == (
        "42", "A title here", "Ann", "https://example.com/ab", "example.com", "x;y",
    )
    assert article.blocks == (Block("Bad \ufffd surrogate."),)


# --- the shared corpora ---------------------------------------------------------------------


def _assert_same_paragraphs(text_file: list[str], jsonl: list[str], article_id: str) -> None:
    """Equal lists, or each text-file paragraph a page-break join of JSON paragraphs.

    A join is a JSON paragraph that starts lower-case, appended to the one before.
    """
    assert " ".join(text_file) == " ".join(jsonl), article_id
    rest = list(jsonl)
    for paragraph in text_file:
        run = [rest.pop(0)]
        while " ".join(run) != paragraph:
            assert rest and rest[0][:1].islower(), (article_id, paragraph[:80], rest[:1])
            run.append(rest.pop(0))
    assert rest == [], article_id


@pytest.mark.parametrize(("jsonl", "folder"), [("bbc", "bbc-txt"), ("reuters21578", "reuters21578-txt")])
def test_shared_text_files_match_their_jsonl_records(shared_corpus, jsonl, folder):
    articles, report = read_all(shared_corpus / folder)
    assert report.skipped == []
    assert len(articles) == len(list((shared_corpus / folder).glob("*.txt")))
    wanted = {article.id for article in articles}
    records = {}
    with open(shared_corpus / jsonl / "articles.jsonl", encoding="utf-8") as lines:
        for line in lines:
            if json.loads(line)["id"] in wanted:
                records[json.loads(line)["id"]] = parse_json_article(line)
    joined = 0
    for article in articles:
        record = records[article.id]
        assert article.title == record.title, article.id
        assert article.published == record.published, article.id
        assert {block.role for block in article.blocks} == {"paragraph"}, article.id
        _assert_same_paragraphs([b.text for b in article.blocks], [b.text for b in record.blocks], article.id)
        joined += len(record.blocks) - len(article.blocks)
    assert joined < len(articles) // 10  # page-break joins are rare, not the rule
