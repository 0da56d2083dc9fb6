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


# --- junk: wire markers, capitals, datelines, headline fragments -------------------------------


def names(text: str) -> Entities:
    """The names of a one-paragraph article, untyped ones left out."""
    found = extract_article_entities("t", [text])[0]
    return Entities(found.people, found.places, found.organisations)


@pytest.mark.parametrize("text", [
    "NOTE: Per shr calculated after payment of preferred dividends.",
    "Net profit 203,000 vs loss 55,000. NOTE: annual dividend payable April 10.",
    "It said a further statement would be made as soon as possible. REUTER",
    "CORRECTED - the figures were revised.",
])
def test_wire_markers_are_no_names(text: str) -> None:
    assert names(text) == Entities()


def test_a_paragraph_in_capitals_gives_only_known_names() -> None:
    text = ("THE ALLIES AFTER NASSAU, THE U.S . FIRST PROPOSED TO HELP NATO. WHO WILL PAY? LET US SEE, SAID "
            "PRESIDENT KENNEDY AND PRIME MINISTER MACMILLAN, AND BRITAIN AND FRANCE AGREED. IT ALL SPRANG FROM THAT.")
    assert names(text) == Entities(places=("Britain", "France"), organisations=("NATO",))


def test_organisations_named_like_words_are_not_taken_from_capitals() -> None:
    assert names("THE SUN ROSE OVER THE SHELL OF THE OLD FORD.") == Entities()


def test_capitals_in_a_table_are_looked_up_in_the_gazetteers() -> None:
    text = "IMPORTS     ALLOCATIONS\nARGENTINA        nil          39,130\nCONGO            nil           7,599"
    assert names(text) == Entities(places=("Argentina", "Congo"))


def test_a_headline_fragment_in_capitals() -> None:
    assert names("FEBRUARY SALES FOR MAJOR U.S. RETAILERS rose, the group said.") == Entities(places=("U.S.",))


def test_capitals_with_a_legal_ending_are_one_company() -> None:
    found = names("The government's stake in VEBA AG <VEBG.F> is still expected to be sold.")
    assert found == Entities(organisations=("VEBA AG",))


def test_acronyms_in_mixed_text_stay_organisations() -> None:
    assert names("The LDP and OPEC met, the SEC said.") == Entities(organisations=("LDP", "OPEC", "SEC"))


@pytest.mark.parametrize("text, places", [
    ("****PARIS, June 19 - Tunisia has bought French wheat.", ("Paris", "Tunisia")),
    ("ABUJA, Nigeria, June 16 - Prices fell.", ("Abuja", "Nigeria")),
    ("ARNHEM, The Netherlands, March 31 - Profit rose.", ("Arnhem", "Netherlands")),
    ("IRVINE, Calif., March 3 - Profit rose.", ("California", "Irvine")),
    ("RICHMOND, Va, March 24 - Qtly div 31 cts vs 31 cts prior", ("Richmond", "Virginia")),
    ("ESSEN, West Germany, March 11 - Profit rose.", ("Essen", "West Germany")),
])
def test_datelines_give_their_places_and_nothing_else(text: str, places: tuple[str, ...]) -> None:
    found = names(text)
    assert found.places == places and found.people == ()
    assert not {"PARIS", "ABUJA", "ARNHEM", "IRVINE", "RICHMOND", "ESSEN"} & set(found.organisations)


# --- names the rules join, split or type ------------------------------------------------------


@pytest.mark.parametrize("text, organisations", [
    ("Lead underwriters are Merrill Lynch and Co Inc, it said.", ("Merrill Lynch and Co Inc",)),
    ("American Telephone and Telegraph Co said profit rose.", ("American Telephone and Telegraph Co",)),
    ("The House of Representatives and Senate must agree.", ("House of Representatives", "Senate")),
    ("Shares of First Western Financial Corp rose two dlrs in active trading today.", ("First Western Financial Corp",)),
    ("He will chair a meeting of the Commission for Africa in the city.", ("Commission for Africa",)),
    ("US behemoth General Electric posted higher sales.", ("General Electric",)),
    ("Economist Naoki Iizuka of the Dai-ichi Life Research Institute said so.", ("Dai-ichi Life Research Institute",)),
    ("Talks with Milwaukee-based Marine Corp failed.", ("Marine Corp",)),
    ("The ranch is run by a subsidiary of the UK food group Vestey.", ("Vestey",)),
])
def test_organisation_runs(text: str, organisations: tuple[str, ...]) -> None:
    assert names(text).organisations == organisations


def test_general_agreement_is_no_person() -> None:
    assert names("The General Agreement on Tariffs and Trade was signed.").people == ()


def test_for_joins_only_organisations() -> None:
    assert names("Goals from Smith for England won it.").organisations == ()


def test_courtesy_title_before_a_title_word() -> None:
    found = extract_article_entities("t", ["John Major spoke.", "\"I wanted a fight,\" says Mr Major."])
    assert found[1].people == ("John Major",)


def test_cue_word_after_a_hyphen() -> None:
    assert names("Tory co-chairman Liam Fox was speaking.").people == ("Liam Fox",)


def test_in_before_a_run_of_words_is_a_place() -> None:
    assert names("He spent three days at the winter camp in La Manga.").places == ("La Manga",)


def test_prefix_before_a_name() -> None:
    assert names("Non-European Union citizens need visas.").organisations == ("European Union",)


def test_abbreviation_dots() -> None:
    found = names("Mr. Brown met George W. Bush and the U.S. Treasury in St. Louis.")
    assert found.people == ("Brown", "George W Bush")
    assert "St Louis" in found.places


def test_names_the_article_cannot_type_are_kept_apart() -> None:
    found = extract_article_entities("t", ["Their albums include records by Radiohead and Zzyzx."])[0]
    assert found.people == found.places == found.organisations == ()
    assert found.untyped == ("Radiohead", "Zzyzx")


def test_a_place_named_like_a_company_of_the_article() -> None:
    found = extract_article_entities("t", ["Giant Bay Resources Ltd said so.", "Giant Bay's share is 450,000 dlrs."])
    assert found[1] == Entities(organisations=("Giant Bay Resources Ltd",))
