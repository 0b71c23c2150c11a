"""Référentiel screens: imports that report each bad line and import nothing, the editor of a
structure's own référentiel, and another structure's référentiel not found."""

from __future__ import annotations

import io
from pathlib import Path

from sqlmodel import func, select

from afest.models import Competence, CompetenceBlock, Organisation, Referential
from afest.referentials import editor as referential_editor

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "france_competences_blocs.csv"
MANAGER = "direction@azur-aide.demo"


def _count(session) -> int:
    return session.exec(select(func.count(Referential.id))).one()


def _upload(client, kind: str, content: bytes, name: str):
    return client.post(
        "/referentiels/importer",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_admin_imports_the_france_competences_sample(session, login_as):
    before = _count(session)
    response = _upload(login_as("admin@afest.demo"), "csv", SAMPLE.read_bytes(), "blocs.csv")
    assert response.status_code == 302
    assert _count(session) == before + 2


def test_bad_csv_lists_each_line_and_imports_nothing(session, login_as):
    before = _count(session)
    content = (
        b"Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\n"
        b"RNCP99911;RNCP99911BC01;Bon bloc\n"
        b"RNCP99911;;Sans code\n"
        b"RNCP99911;RNCP99911BC03;\n"
    )
    response = _upload(login_as("admin@afest.demo"), "csv", content, "blocs.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ligne 3" in body and "ligne 4" in body and "ligne 2" not in body
    assert "Rien n&#39;a été importé" in body or "Rien n'a été importé" in body
    assert _count(session) == before


def test_bad_json_lists_its_line_and_not_utf8_is_refused(session, login_as):
    admin = login_as("admin@afest.demo")
    response = _upload(admin, "json", b'{\n "code": "X",\n "title": ]\n}', "ref.json")
    assert response.status_code == 422
    assert "ligne 3" in response.get_data(as_text=True)
    response = _upload(admin, "json", "é".encode("latin-1"), "ref.json")
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)


def test_manager_builds_the_structure_referential(session, login_as):
    manager = login_as(MANAGER)
    assoc = session.exec(
        select(Organisation).where(Organisation.name == "Azur Aide à Domicile")
    ).one()
    response = manager.post(
        "/referentiels/nouveau",
        data={"structure": str(assoc.id), "code": "AZUR-2026", "title": "Aide à domicile Azur"},
    )
    assert response.status_code == 302
    ref = session.exec(select(Referential).where(Referential.code == "AZUR-2026")).one()
    assert ref.owner_structure_id == assoc.id
    base = f"/referentiels/{ref.public_id}"
    assert (
        manager.post(f"{base}/blocs", data={"code": "B1", "title": "Organiser"}).status_code == 302
    )
    assert manager.post(f"{base}/blocs", data={"code": "B1", "title": "Encore"}).status_code == 422
    block = session.exec(
        select(CompetenceBlock).where(CompetenceBlock.referential_id == ref.id)
    ).one()
    data = {"block": str(block.id), "code": "M1", "title": "Lire le plan d'aide"}
    assert manager.post(f"{base}/competences", data=data).status_code == 302
    assert (
        session.exec(select(Competence).where(Competence.block_id == block.id)).one().code == "M1"
    )
    levels = {"levels": "Débute\nProgresse\nAutonome *"}
    assert manager.post(f"{base}/niveaux", data=levels).status_code == 302
    assert manager.post(f"{base}/niveaux", data={"levels": "Seul"}).status_code == 422
    page = manager.get(base).get_data(as_text=True)
    assert "Autonome" in page and "Lire le plan d" in page


def test_another_structures_referential_is_not_found(session, login_as, make_structure):
    other = make_structure()
    ref = referential_editor.create_structure_referential(
        session, actor_id=None, structure_id=other.id, code="AUTRE-1", title="Autre"
    )
    session.commit()
    manager = login_as(MANAGER)
    assert manager.get(f"/referentiels/{ref.public_id}").status_code == 404
    assert manager.post(f"/referentiels/{ref.public_id}/blocs", data={}).status_code == 404
    assert "AUTRE-1" not in manager.get("/referentiels/").get_data(as_text=True)
    assert login_as("admin@afest.demo").get(f"/referentiels/{ref.public_id}").status_code == 200
