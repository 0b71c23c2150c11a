"""France compétences' exports read as published (tests/data/rncp/): the CSV export's zip and
the XML export, the fiches listed and searched, competences split from LISTE_COMPETENCES,
and files that are not safe to read refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from afest.referentials import register
from afest.referentials.register import RegisterError

from .rncp_files import CSV_FILES, XML_2026, csv_zip, xml_zip

SHARED = Path(__file__).resolve().parents[2] / "afest" / "data" / "referentiels"


def _deas() -> dict:
    return json.loads((SHARED / "deas.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("content", [XML_2026.read_bytes(), xml_zip()], ids=["xml", "xml-zip"])
def test_xml_export_gives_the_deas_and_deaes_blocks_and_competences(content):
    fiches = register.fiches(content, ["RNCP35830", "RNCP36004"])
    deas, deaes = fiches["RNCP35830"], fiches["RNCP36004"]
    expected = _deas()
    assert (deas.title, deas.level, deas.active) == (expected["title"], 4, True)
    assert [b.code for b in deas.blocks] == [b["code"] for b in expected["blocks"]]
    assert [b.competences for b in deas.blocks] == [
        [(c["code"], c["title"]) for c in b["competences"]] for b in expected["blocks"]
    ]
    assert deas.replaces == ["RNCP4495"]
    assert deas.blocks[0].assessment_terms.startswith("Évaluation des compétences")
    # the DEAES lists its competences as HTML: a list item each, the heading left out
    assert [b.code for b in deaes.blocks] == [f"RNCP36004BC0{i}" for i in range(1, 6)]
    assert deaes.blocks[0].competences[0] == (
        "C1",
        "Identifier le besoin de la personne accompagnée et adapter son intervention",
    )
    assert sum(len(b.competences) for b in deaes.blocks) == 12
    assert deaes.level == 3 and "<" not in deaes.blocks[0].assessment_terms


def test_xml_blocks_of_correspondences_are_not_blocks_of_the_fiche():
    deas = register.fiches(XML_2026.read_bytes(), ["RNCP35830"])["RNCP35830"]
    assert "RNCP35832BC01" in XML_2026.read_text(encoding="utf-8")
    assert all(b.code.startswith("RNCP35830") for b in deas.blocks) and len(deas.blocks) == 5


def test_csv_export_joins_its_files_on_the_fiche_number():
    fiches = register.fiches(csv_zip(), ["RNCP35830", "RNCP36004"])
    deas = fiches["RNCP35830"]
    assert deas.title == "Diplôme d'État d'aide-soignant"  # from the Standard file
    assert (deas.level, deas.active, deas.ends_on) == (4, True, "01/09/2026")
    assert [b.code for b in deas.blocks] == [f"RNCP35830BC0{i}" for i in range(1, 6)]
    assert all(b.competences == [] for b in deas.blocks)  # the CSV export publishes none
    assert deas.replaces == ["RNCP4495"] and not deas.lists_competences
    assert len(fiches["RNCP36004"].blocks) == 5


@pytest.mark.parametrize("content", [XML_2026.read_bytes(), csv_zip()], ids=["xml", "csv"])
def test_listing_and_search_by_number_or_title(content):
    listed = register.listing(content)
    assert [f.number for f in listed] == ["RNCP4495", "RNCP35830", "RNCP36004"]
    assert [f.active for f in listed] == [False, True, True]
    assert [f.number for f in register.search(listed, "36004")] == ["RNCP36004"]
    assert [f.number for f in register.search(listed, "rncp35830")] == ["RNCP35830"]
    found = register.search(listed, "ACCOMPAGNANT educatif")
    assert [f.number for f in found] == ["RNCP36004"]
    assert register.search(listed, "  ") == listed


def test_competences_split_from_free_text():
    text = (
        "<p>Le candidat est capable de :</p><ul><li>Organiser&nbsp;son intervention</li>"
        "<li>C7 - Préparer des repas</li></ul>\n• Entretenir le linge\n2) Rendre compte"
    )
    assert register.split_competences(text) == [
        (None, "Organiser son intervention"),
        ("C7", "Préparer des repas"),
        (None, "Entretenir le linge"),
        (None, "Rendre compte"),
    ]


def test_zip_without_the_export_files_is_refused():
    others = [p for p in CSV_FILES if "Standard" not in p.name]
    with pytest.raises(RegisterError, match="Standard"):
        register.listing(csv_zip(others))


def test_csv_with_a_missing_column_is_refused():
    content = csv_zip(replace={'"Intitule"': '"Titre"'})
    with pytest.raises(RegisterError, match="Intitule"):
        register.listing(content)


def test_entity_bomb_and_external_entities_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE FICHES [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<FICHES><FICHE><NUMERO_FICHE>&b;</NUMERO_FICHE></FICHE></FICHES>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE FICHES [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<FICHES><FICHE><INTITULE>&x;</INTITULE></FICHE></FICHES>"
    )
    for content in (bomb, external):
        with pytest.raises(RegisterError, match="DTD"):
            register.listing(content)


def test_zip_bomb_is_refused_before_it_is_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export_fiches_RNCP_V4_1_2026-12-01.xml", b"<" + b" " * 5_000_000)
    with pytest.raises(RegisterError, match="anormalement gros"):
        register.listing(buffer.getvalue())


def test_member_other_than_its_zip_announces_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("export.xml", XML_2026.read_bytes())
    data = bytearray(buffer.getvalue())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.infolist()[0]
    # the central directory's uncompressed size says 100 bytes: reading past it is refused
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    with pytest.raises(RegisterError, match="illisible"):
        register.listing(bytes(data))
    assert info.file_size > 100


@pytest.mark.parametrize(
    "content",
    [b"", b"Numero_Fiche;Intitule\nRNCP1;x\n", b"PK\x03\x04broken", b"<FICHES><FICHE>"],
    ids=["empty", "bare-csv", "broken-zip", "broken-xml"],
)
def test_files_that_are_not_an_export_are_refused(content):
    with pytest.raises(RegisterError):
        register.listing(content)


def test_xml_of_another_kind_is_refused():
    with pytest.raises(RegisterError, match="FICHES"):
        register.listing(b"<?xml version='1.0'?><ROOT><FICHE/></ROOT>")


def test_an_encrypted_member_is_refused():
    data = bytearray(xml_zip())
    # the central directory's flags say the member is encrypted: zipfile asks for a password
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x01
    with pytest.raises(RegisterError, match="illisible"):
        register.listing(bytes(data))
