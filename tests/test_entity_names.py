"""One facet value per entity across an archive: EntityNames, Canonicalizer and the alias groups
(searchapp.entities.canonical, searchapp.entities.aliases)."""

from __future__ import annotations

import json
import pickle
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from searchapp.config import load_settings
from searchapp.entities import (
    AliasError,
    Canonicalizer,
    Entities,
    EntityNames,
    builtin_aliases,
    extract_article_entities,
    load_aliases,
    read_alias_file,
)
from searchapp.entities.aliases import parse_aliases
from searchapp.paragraphs import Paragraph


def names_of(*articles: tuple[str, list[Entities]]) -> EntityNames:
    """EntityNames of (source, paragraphs) articles."""
    names = EntityNames()
    for source, paragraphs in articles:
        names.add_article(paragraphs, source)
    return names


def people(*found: str) -> list[Entities]:
    return [Entities(people=tuple(found))]


def orgs(*found: str) -> list[Entities]:
    return [Entities(organisations=tuple(found))]


def test_counts_articles_not_paragraphs() -> None:
    names = names_of(("Reuters", [Entities(people=("Reagan",)), Entities(people=("Reagan", "Ronald Reagan"))]),
                     ("Reuters", people("Reagan")))
    assert names.articles["Reuters"]["people"] == {"Reagan": 2, "Ronald Reagan": 1}


def test_source_read_from_paragraphs() -> None:
    paragraph = Paragraph(id="a-p1", article_id="a", title="t", author="", source="BBC News", published="", url="",
                          topic="", section="", position=1, kind="body", text="x", people=("Tony Blair",))
    names = EntityNames()
    names.add_article([paragraph])
    assert names.articles["BBC News"]["people"] == {"Tony Blair": 1}


def test_update_merges_counts_of_other_processes() -> None:
    first = names_of(("Reuters", people("Reagan")), ("BBC News", people("Blair")))
    second = names_of(("Reuters", people("Reagan", "Ronald Reagan")))
    first.update(second)
    assert first == names_of(("Reuters", people("Reagan")), ("BBC News", people("Blair")),
                             ("Reuters", people("Reagan", "Ronald Reagan")))


def test_names_survive_pickle_and_json() -> None:
    names = names_of(("Reuters", [Entities(people=("Reagan",), untyped=("Cellnet",))]))
    assert pickle.loads(pickle.dumps(names)) == names
    assert EntityNames.from_json(json.loads(json.dumps(names.to_json()))) == names
    canon = names.canonicalizer(builtin_aliases())
    assert Canonicalizer.from_json(json.loads(canon.dumps())) == canon
    assert pickle.loads(pickle.dumps(canon)) == canon


@pytest.mark.parametrize("cls", [EntityNames, Canonicalizer])
def test_other_format_is_refused(cls) -> None:
    with pytest.raises(ValueError, match="rebuild the index"):
        cls.from_json({"format": 99})


def test_surname_takes_the_full_name_the_archive_knows() -> None:
    canon = names_of(("Reuters", people("Ronald Reagan")), *[("Reuters", people("Reagan"))] * 10).canonicalizer()
    assert canon.canonical("people", "Reagan", "Reuters") == "Ronald Reagan"
    assert canon.values("people", ["Reagan", "Ronald Reagan"], "Reuters") == ("Ronald Reagan",)


def test_surname_of_two_full_names_stays() -> None:
    canon = names_of(("Reuters", people("James Baker")), ("Reuters", people("Howard Baker")),
                     ("Reuters", people("Baker"))).canonicalizer()
    assert canon.canonical("people", "Baker", "Reuters") == "Baker"


def test_a_much_rarer_full_name_does_not_take_a_frequent_short_form() -> None:
    canon = names_of(("Reuters", people("Kim Reagan")), *[("Reuters", people("Reagan"))] * 40).canonicalizer()
    assert canon.canonical("people", "Reagan", "Reuters") == "Reagan"


def test_each_source_decides_for_its_own_articles_first() -> None:
    canon = names_of(("BBC News", people("Peter Goldsmith")), ("BBC News", people("Goldsmith")),
                     ("Reuters", people("James Goldsmith")), ("Reuters", people("James Goldsmith")),
                     ("Reuters", people("Goldsmith"))).canonicalizer()
    assert canon.canonical("people", "Goldsmith", "BBC News") == "Peter Goldsmith"
    assert canon.canonical("people", "Goldsmith", "Reuters") == "James Goldsmith"


def test_a_source_without_a_full_name_asks_the_archive_for_companies_only() -> None:
    canon = names_of(("Reuters", orgs("Texaco Inc")), ("BBC News", orgs("Texaco")),
                     ("Reuters", people("E.F. Hutton")), ("BBC News", people("Hutton"))).canonicalizer()
    assert canon.canonical("organisations", "Texaco", "BBC News") == "Texaco Inc"
    assert canon.canonical("organisations", "Texaco", "a source never seen") == "Texaco Inc"
    assert canon.canonical("people", "Hutton", "BBC News") == "Hutton"  # Lord Hutton, not E.F. Hutton


@pytest.mark.parametrize("short", ["Charles", "Workers"])  # a given name; a common word
def test_given_names_and_words_are_no_short_forms(short: str) -> None:
    canon = names_of(("BBC News", people(f"Ray {short}")), ("BBC News", people(short))).canonicalizer()
    assert canon.canonical("people", short, "BBC News") == short


@pytest.mark.parametrize("short, full", [
    ("Texaco", "Texaco Inc"),  # legal ending
    ("Acme Holdings", "Acme Holdings Ltd"),
    ("Hartwell", "Hartwell Party"),  # "X" for "X Party"
    ("Social Democrat", "Social Democrats"),  # a party's member
    ("IFS", "Institute of Fiscal Studies"),  # acronym
    ("OPECX", "Organization of Petroleum Exporting Countries Xtra"),
])
def test_organisation_short_forms(short: str, full: str) -> None:
    canon = names_of(("Reuters", orgs(full)), ("Reuters", orgs(short))).canonicalizer()
    assert canon.canonical("organisations", short, "Reuters") == full


def test_gazetteer_organisations_show_as_listed() -> None:
    canon = names_of(("Reuters", orgs("Chrysler Corp")), ("Reuters", orgs("Chrysler")),
                     ("Reuters", orgs("Congress Party")), ("Reuters", orgs("Congress"))).canonicalizer()
    assert canon.canonical("organisations", "Chrysler Corp", "Reuters") == "Chrysler"
    assert canon.canonical("organisations", "Congress", "Reuters") == "Congress"  # not India's Congress Party


def test_acronyms_only_within_their_source() -> None:
    canon = names_of(("Reuters", orgs("National Medical Enterprises")), ("Reuters", orgs("NME")),
                     ("BBC News", orgs("NME"))).canonicalizer()
    assert canon.canonical("organisations", "NME", "Reuters") == "National Medical Enterprises"
    assert canon.canonical("organisations", "NME", "BBC News") == "NME"


def test_untyped_names_take_the_type_they_have_elsewhere() -> None:
    canon = names_of(("BBC News", orgs("Radiohead")), ("BBC News", orgs("Radiohead")),
                     ("BBC News", [Entities(untyped=("Radiohead", "Called", "Zzyzx"))])).canonicalizer()
    found = canon.apply(Entities(untyped=("Radiohead", "Called", "Zzyzx")), "BBC News")
    assert found == Entities(organisations=("Radiohead",), untyped=("Called", "Zzyzx"))


def test_names_mostly_untyped_stay_untyped() -> None:
    canon = names_of(*[("BBC News", people("Oscar"))] * 2, *[("BBC News", [Entities(untyped=("Oscar",))])] * 11)\
        .canonicalizer()
    assert canon.type_of("Oscar", "BBC News") == ""


def test_untyped_common_words_stay_untyped() -> None:
    canon = names_of(*[("BBC News", [Entities(places=("New",))])] * 3,
                     ("BBC News", [Entities(untyped=("New",))])).canonicalizer()
    assert canon.type_of("New", "BBC News") == ""


def test_apply_keeps_the_record_type_and_reads_its_source() -> None:
    canon = names_of(("Reuters", people("Ronald Reagan")), ("Reuters", people("Reagan"))).canonicalizer(
        builtin_aliases())
    paragraph = Paragraph(id="a-p1", article_id="a", title="t", author="", source="Reuters", published="", url="",
                          topic="", section="", position=1, kind="body", text="x",
                          people=("Reagan",), places=("US", "U.S.", "Japan"))
    found = canon.apply(paragraph)
    assert type(found) is Paragraph
    assert (found.people, found.places) == (("Ronald Reagan",), ("Japan", "United States"))


def test_variants_and_changes() -> None:
    old = names_of(("Reuters", people("Reagan"))).canonicalizer()
    new = names_of(("Reuters", people("Reagan")), ("Reuters", people("Ronald Reagan"))).canonicalizer()
    assert new.variants("people", "Ronald Reagan") == ["Reagan", "Ronald Reagan"]
    assert new.changes(old)["people"] == {"Reagan"}
    assert new.changes(new) == {"people": set(), "places": set(), "organisations": set()}


# --- aliases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("facet, variants, canonical", [
    ("places", ["U.S.", "US", "USA", "United States", "America"], "United States"),
    ("places", ["UK", "U.K.", "Britain", "Great Britain", "United Kingdom"], "United Kingdom"),
    ("places", ["USSR", "Soviet Union"], "Soviet Union"),
    ("organisations", ["EU", "European Union"], "European Union"),
    ("organisations", ["EC", "EEC", "European Community"], "European Community"),
    ("organisations", ["UN", "U.N.", "United Nations"], "United Nations"),
    ("organisations", ["IMF", "International Monetary Fund"], "International Monetary Fund"),
    ("organisations", ["Fed", "Federal Reserve Board", "Federal Reserve"], "Federal Reserve"),
    ("organisations", ["OPEC", "Organization of Petroleum Exporting Countries"],
     "Organization of Petroleum Exporting Countries"),
    ("organisations", ["GATT", "General Agreement on Tariffs and Trade"], "General Agreement on Tariffs and Trade"),
    ("organisations", ["NATO", "Nato"], "North Atlantic Treaty Organization"),
    ("organisations", ["SEC", "Securities and Exchange Commission"], "Securities and Exchange Commission"),
    ("organisations", ["USDA", "U.S. Agriculture Department"], "U.S. Department of Agriculture"),
    ("organisations", ["Labour", "Labour Party"], "Labour Party"),
    ("organisations", ["Tories", "Conservatives", "Conservative"], "Conservative Party"),
    ("organisations", ["Lib Dems", "Liberal Democrat", "Liberal Democrats"], "Liberal Democrats"),
    ("organisations", ["SNP"], "Scottish National Party"),
    ("organisations", ["UKIP"], "UK Independence Party"),
    ("organisations", ["IRA"], "Irish Republican Army"),
])
def test_builtin_alias_groups(facet: str, variants: list[str], canonical: str) -> None:
    canon = EntityNames().canonicalizer(load_aliases())
    assert canon.values(facet, variants) == (canonical,)


def test_alias_names_are_never_taken_by_a_longer_name() -> None:
    canon = names_of(("Reuters", orgs("Federal Reserve Board of Chicago")), ("Reuters", orgs("Fed")),
                     ("Reuters", orgs("Federal Reserve"))).canonicalizer(load_aliases())
    assert canon.canonical("organisations", "Federal Reserve", "Reuters") == "Federal Reserve"


def test_user_groups_win_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text("# ours\nUSA, United States\n\nBBC, British Broadcasting Corporation, Beeb\n", encoding="utf-8")
    table = load_aliases(path)
    assert table["U.S."] == table["United States"] == table["USA"] == "USA"
    assert table["Beeb"] == "BBC"
    assert table["EU"] == "European Union"  # the built-in groups stay


@pytest.mark.parametrize("text, problem", [
    ("A, B\nC, , D\n", ":2: an empty name"),
    ("A, B\nLonely\n", ":2: a group needs two or more names"),
    ("A, B\nC, B\n", ":2: 'B' is in an earlier group too"),
])
def test_bad_alias_lines_are_named(text: str, problem: str) -> None:
    with pytest.raises(AliasError, match=problem):
        parse_aliases(text, "mine.txt")


def test_unreadable_alias_files(tmp_path: Path) -> None:
    with pytest.raises(AliasError, match="no such file"):
        read_alias_file(tmp_path / "missing.txt")
    (tmp_path / "latin1.txt").write_bytes("Köln, Cologne\n".encode("latin-1"))
    with pytest.raises(AliasError, match="not UTF-8"):
        read_alias_file(tmp_path / "latin1.txt")


def test_setting_checks_the_alias_file(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Beeb, BBC\n", encoding="utf-8")
    assert load_settings({"SEARCHAPP_ENTITY_ALIASES": str(tmp_path / "ok.txt")}).entity_aliases == str(tmp_path / "ok.txt")
    with pytest.raises(ValueError, match="no such file"):
        load_settings({"SEARCHAPP_ENTITY_ALIASES": str(tmp_path / "missing.txt")})


def test_cli_reports_a_bad_alias_file_in_one_line(tmp_path: Path, searchapp_command: list[str]) -> None:
    (tmp_path / "bad.txt").write_text("Lonely\n", encoding="utf-8")
    result = subprocess.run([*searchapp_command, "index", "build", "--index", str(tmp_path / "index")],
                            capture_output=True, text=True, timeout=120,
                            env={"SEARCHAPP_ENTITY_ALIASES": str(tmp_path / "bad.txt"), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "bad.txt:1: a group needs two or more names" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()


# --- end to end: extractor, then canonical names ----------------------------------------------


@dataclass
class Article:
    source: str
    paragraphs: list[str]


def indexed(articles: list[Article]) -> list[list[Entities]]:
    """What the index would store: every article's names, canonical across all of them."""
    found = [extract_article_entities("t", a.paragraphs) for a in articles]
    names = EntityNames()
    for article, named in zip(articles, found):
        names.add_article(named, article.source)
    canon = names.canonicalizer(load_aliases())
    return [[canon.apply(e, a.source) for e in named] for a, named in zip(articles, found)]


def test_one_value_per_entity_across_articles() -> None:
    found = indexed([
        Article("Reuters", ["WASHINGTON, March 2 - President Ronald Reagan met OPEC ministers in the U.S. capital."]),
        Article("Reuters", ["President Reagan said the Organization of Petroleum Exporting Countries must act."]),
        Article("Reuters", ["Reagan told the US Congress the United States would wait."]),
    ])
    values = {f: {v for article in found for e in article for v in getattr(e, f)}
              for f in ("people", "places", "organisations")}
    assert values["people"] == {"Ronald Reagan"}
    assert {"United States", "Washington"} == values["places"]
    assert {"Organization of Petroleum Exporting Countries", "Congress"} == values["organisations"]
