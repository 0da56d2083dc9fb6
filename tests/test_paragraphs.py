"""Splitting an `Article` into `Paragraph` documents: ids, positions, kinds, sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.articles import Article, Block, ReadReport, read_articles, sample_sources
from searchapp.paragraphs import Paragraph, paragraph_kind, quoted_share, split_paragraphs

SAMPLE_FILE = next(sample_sources()[0].glob("*.txt"))
FIXTURES = Path(__file__).parent / "fixtures"
SECTION = "Building a new Syria"
LAYOUT_FIELDS = ("id", "article_id", "title", "author", "source", "published", "url", "topic", "section",
                 "position", "kind", "text", "credit", "origin", "article_hash")

# (kind, section, text) of every paragraph of the seed article, in order.
SEED_PARAGRAPHS = [
    ("body", "", 'Syria\'s interim leader Ahmed al-Sharaa emphasized the "strong strategic ties" between his country and Russia during his first telephone call with President Vladimir Putin since taking power, the Syrian presidency said Wednesday.'),
    ("body", "", "Rebels led by Sharaa's Islamist group Hayat Tahrir al-Sham ousted Moscow's close ally Bashar al-Assad in December after a lightning offensive, and questions have remained over the fate of Russia's two military bases in the war-torn country."),
    ("body", "", 'Sharaa emphasized "the strong strategic ties between the two countries and Syria\'s openness to all parties" in a way that serves "the interests of the Syrian people and strengthens Syria\'s stability and security," the presidency statement said.'),
    ("body", "", 'It also said Putin extended "an official invitation to Foreign Minister Asaad al-Shaibani to visit Russia."'),
    ("body", "", 'The Kremlin, in a readout of the call, said Putin wished Sharaa "success... in solving the tasks facing the new leadership of the country for the benefit of the Syrian people."'),
    ("quote", "", '"The Russian side emphasized its principled position in support of the unity, sovereignty and territorial integrity of the Syrian state," it added.'),
    ("related", "", "Syria Could Let Russia Keep Air and Naval Bases, New Defense Minister Says"),
    ("body", "", "Moscow helped keep Assad in power when it intervened militarily in Syria's war in 2015, launching devastating strikes on rebel-held areas."),
    ("body", "", "When rebels swept into Damascus in December, Russia granted Assad asylum, angering many Syrians including the country's new rulers."),
    ("body", "", "Russia is seeking to secure the fate of its naval base in Tartus and its air base at Khmeimim — both on Syria's Mediterranean coast and Moscow's only military bases outside the former Soviet Union — with the new Syrian authorities."),
    ("body", "", "Both were left vulnerable after Assad was ousted, in a major setback for Russia's foreign policy."),
    ("body", SECTION, 'The Syrian presidency also said the two leaders exchanged "views on the current situation in Syria and the political roadmap for building a new Syria."'),
    ("body", SECTION, 'Last month, Syria\'s new leadership urged Moscow to "address past mistakes" during talks in Damascus with Russian officials that touched on "the brutal war waged by the Assad regime."'),
    ("body", SECTION, "Russia's Deputy Foreign Minister Mikhail Bogdanov said he and his delegation had met for three hours with Sharaa and Shaibani."),
    ("related", SECTION, "Syria's New Leadership Urges Russia to 'Address Past Mistakes' in First Talks Since Assad's Ouster"),
    ("body", SECTION, 'Russia\'s Foreign Ministry said that visit came at a "crunch point" in Russia-Syria relations, with Kremlin spokesman Dmitry Peskov calling it an "important trip."'),
    ("body", SECTION, "Peskov at the time declined to comment on reports that Syria's new rulers had requested Assad's extradition and to be paid compensation by Moscow."),
    ("body", SECTION, 'Sharaa in an interview in December with Al-Arabiya TV channel noted the "deep strategic interests between Russia and Syria."'),
    ("quote", SECTION, '"All Syria\'s arms are of Russian origin, and many power plants are managed by Russian experts... We do not want Russia to leave Syria in the way that some wish," he said.'),
    ("body", SECTION, "Diplomats from Ukraine, where Russia has been waging a full-scale invasion since 2022, visited Syria's new rulers in December, with Foreign Minister Andriy Sybiga urging Sharaa to expel Russia from the country."),
]


def read_one(path: Path) -> Article:
    report = ReadReport()
    [article] = read_articles([path], report)
    return article


def test_seed_article_becomes_the_whole_expected_paragraph_list():
    article = read_one(SAMPLE_FILE)
    article_id = "syria-russia-strategic-ties-2025-02-12"
    expected = [
        Paragraph(
            id=f"{article_id}-p{position}",
            article_id=article_id,
            title="Syria Leader Stresses 'Strong Strategic Ties' in Call With Russia's Putin",
            author="AFP",
            source="themoscowtimes.com",
            published="2025-02-12",
            url="https://www.themoscowtimes.com/2025/02/12/syria-leader-stresses-strong-strategic-ties-in-call-with-russias-putin-a87973",
            topic="",
            section=section,
            position=position,
            kind=kind,
            text=text,
            credit="kremlin.ru",
            origin=str(SAMPLE_FILE),
            article_hash=article.content_hash,
        )
        for position, (kind, section, text) in enumerate(SEED_PARAGRAPHS, start=1)
    ]
    assert split_paragraphs(article, entities="off") == expected
    # named entities (tested in test_entities.py) add fields and change none of these
    layout = [{name: getattr(p, name) for name in LAYOUT_FIELDS} for p in expected]
    assert [{name: getattr(p, name) for name in LAYOUT_FIELDS} for p in split_paragraphs(article)] == layout


def test_fixture_article_paragraphs():
    article = read_one(FIXTURES / "bridge-page-break.txt")
    assert [(p.id, p.position, p.kind, p.section, p.text[:40]) for p in split_paragraphs(article)] == [
        ("bridge-page-break-p1", 1, "body", "", "The city council voted on Thursday to ap"),
        ("bridge-page-break-p2", 2, "body", "", "Supporters said the bridge would link th"),
        ("bridge-page-break-p3", 3, "quote", "", '"We have waited long enough for this cro'),
        ("bridge-page-break-p4", 4, "related", "", "Ferry Timetable Changes Announced for th"),
        ("bridge-page-break-p5", 5, "body", "", "Opponents had argued that the money shou"),
        ("bridge-page-break-p6", 6, "body", "Building the crossing", "Construction is expected to begin in the"),
        ("bridge-page-break-p7", 7, "body", "Building the crossing", "The design includes a wide deck for cycl"),
        ("bridge-page-break-p8", 8, "related", "Building the crossing", "Council Publishes Budget for Road Repair"),
    ]


def test_ids_are_stable_and_positions_count_paragraphs_not_headings():
    blocks = (Block("Intro."), Block("Part two", "heading"), Block("More."), Block("Part three", "heading"), Block("End."))
    article = Article(id="x", title="T", blocks=blocks)
    paragraphs = split_paragraphs(article)
    assert [(p.id, p.position, p.section) for p in paragraphs] == [
        ("x-p1", 1, ""), ("x-p2", 2, "Part two"), ("x-p3", 3, "Part three"),
    ]
    assert split_paragraphs(article) == paragraphs


@pytest.mark.parametrize(("text", "role", "kind"), [
    ('"Everything we said was true and we stand by every word of it," he said.', "paragraph", "quote"),
    ("“Curly quotes count as well, of course they do,” she said.", "paragraph", "quote"),
    ("‘Single curly quotes are quotations too, in British copy,’ he said.", "paragraph", "quote"),
    ('"Short," he said, adding a long explanation that is not quoted at all in the end.', "paragraph", "body"),
    ('He said "most of this sentence sits inside the quotation marks really".', "paragraph", "body"),
    ("A plain paragraph without any quotation.", "paragraph", "body"),
    ("Some Related Article Title", "related", "related"),
    ('"A quoted related title"', "related", "related"),
    ("", "paragraph", "body"),
])
def test_paragraph_kind(text, role, kind):
    assert paragraph_kind(text, role) == kind


def test_quoted_share():
    assert quoted_share('"abc" def') == pytest.approx(5 / 9)
    assert quoted_share("no quotes") == 0.0
    assert quoted_share("") == 0.0
    assert quoted_share('"never closed') == 1.0


def test_to_dict_holds_every_field():
    paragraph = split_paragraphs(read_one(SAMPLE_FILE))[0]
    assert Paragraph(**paragraph.to_dict()) == paragraph
