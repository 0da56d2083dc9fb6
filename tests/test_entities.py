"""People / places / organisations extraction (searchapp.entities)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from searchapp.entities import Entities, extract_article_entities

SEED = Path(__file__).parents[1] / "searchapp" / "sample" / "syria-russia-strategic-ties-2025-02-12.txt"
HEADER = re.compile(r"^(By |Original url:|https?://|[A-Z][a-z]+ \d{1,2}, \d{4}$|\S+\.\w+$)")


def seed_paragraphs() -> list[str]:
    """The seed article's body blocks: split at blank lines, minus title and header/footer lines."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", SEED.read_text(encoding="utf-8").strip())]
    return [b for b in blocks[1:] if b and not HEADER.match(b)]


def facet(found: list[Entities], kind: str) -> list[str]:
    """The article's facet values: every paragraph's names, each once."""
    return sorted({name for entities in found for name in getattr(entities, kind)})


@pytest.fixture(scope="module")
def seed() -> list[Entities]:
    return extract_article_entities("Syria Leader Stresses 'Strong Strategic Ties'", seed_paragraphs())


def test_seed_split_skips_header() -> None:
    paragraphs = seed_paragraphs()
    assert paragraphs[0].startswith("Syria's interim leader Ahmed al-Sharaa")
    assert paragraphs[-1].startswith("Diplomats from Ukraine")
    assert not any(p.startswith(("By ", "kremlin.ru", "Original url")) for p in paragraphs)


def test_seed_people_each_once(seed: list[Entities]) -> None:
    assert facet(seed, "people") == sorted([
        "Ahmed al-Sharaa", "Vladimir Putin", "Bashar al-Assad", "Asaad al-Shaibani",
        "Mikhail Bogdanov", "Dmitry Peskov", "Andriy Sybiga",
    ])


def test_seed_places(seed: list[Entities]) -> None:
    places = facet(seed, "places")
    assert {"Syria", "Russia", "Damascus", "Tartus", "Khmeimim"} <= set(places)
    assert not {"Syrian", "Russian", "Syrians"} & set(places)


def test_seed_organisations(seed: list[Entities]) -> None:
    assert {"Hayat Tahrir al-Sham", "Kremlin"} <= set(facet(seed, "organisations"))


def test_seed_one_entities_per_paragraph(seed: list[Entities]) -> None:
    paragraphs = seed_paragraphs()
    assert len(seed) == len(paragraphs)
    assert seed[1].people == ("Ahmed al-Sharaa", "Bashar al-Assad")  # "Sharaa's", "Bashar al-Assad"
    assert seed[1].organisations == ("Hayat Tahrir al-Sham",)
    assert "Kremlin" in seed[5].organisations  # "The Kremlin, in a readout ..."


ARTICLE = [
    "Foreign Minister Maria Kowalczyk met President Tomasz Brzeski in Warsaw on Monday.",
    "Kowalczyk's visit came a week after Brzeski's speech to the Polish parliament.",
    "Mr Brzeski said Poland's ties with Germany were strong, the Kremlin noted.",
    "The Polish delegation left for Berlin.",
]


def test_short_forms_join_full_names_and_titles_are_dropped() -> None:
    found = extract_article_entities("Talks", ARTICLE)
    assert found[0].people == ("Maria Kowalczyk", "Tomasz Brzeski")
    assert found[1].people == ("Maria Kowalczyk", "Tomasz Brzeski")
    assert found[2].people == ("Tomasz Brzeski",)


def test_possessives_the_and_demonyms() -> None:
    found = extract_article_entities("Talks", ARTICLE)
    assert found[2].places == ("Germany", "Poland")
    assert found[2].organisations == ("Kremlin",)
    assert found[3].places == ("Berlin",)
    assert found[1] == Entities(people=("Maria Kowalczyk", "Tomasz Brzeski"))


def test_same_full_name_across_articles() -> None:
    first = extract_article_entities("a", ["Prime Minister Maria Kowalczyk spoke in London."])
    second = extract_article_entities("b", ["Maria Kowalczyk arrived.", "Kowalczyk's aides were there."])
    assert first[0].people == second[0].people == second[1].people == ("Maria Kowalczyk",)


def test_organisation_short_forms_and_acronyms() -> None:
    found = extract_article_entities("Rates", [
        "The Institute of Fiscal Studies and Hartwell Holdings Inc published figures.",
        "The IFS said Hartwell had agreed.",
    ])
    assert found[0].organisations == ("Hartwell Holdings Inc", "Institute of Fiscal Studies")
    assert found[1].organisations == ("Hartwell Holdings Inc", "Institute of Fiscal Studies")


def test_wire_dateline_and_markup() -> None:
    found = extract_article_entities("X", ["ELMHURST, ILL., March 20 - Acme Corp <ACME> said <u>it</u> grew."])
    assert found[0].places == ("Elmhurst", "Illinois")
    assert found[0].organisations == ("Acme Corp",)


def test_tuples_are_sorted_and_unique() -> None:
    found = extract_article_entities("x", ["Russia, Syria and Russia again; Syria's ports and Russia's."])
    assert found[0].places == ("Russia", "Syria")


def test_empty_input_and_paragraph_without_names() -> None:
    assert extract_article_entities("t", []) == []
    assert extract_article_entities("t", ["", "nothing here to see."]) == [Entities(), Entities()]


def test_unknown_extractor_is_refused() -> None:
    with pytest.raises(ValueError):
        extract_article_entities("t", ["Paris."], extractor="nope")


def test_spacy_extractor_when_installed() -> None:
    pytest.importorskip("spacy")
    found = extract_article_entities("t", ["President Vladimir Putin met officials of the Kremlin in Moscow."],
                                     extractor="spacy")
    assert "Vladimir Putin" in found[0].people and "Moscow" in found[0].places
