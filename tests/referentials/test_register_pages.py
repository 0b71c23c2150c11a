"""The import from the register as an administrator does it: send the export, search and
choose fiches, preview (new, revision and its differences), confirm; a bad file answered
beside the field, nothing half-saved, the file kept for its sender only."""

from __future__ import annotations

import io

from sqlmodel import func, select

from afest.models import Referential, Upload

from .rncp_files import XML_2026, XML_2027, csv_zip, xml_zip

ADMIN = "admin@afest.demo"


def _send(client, content: bytes, name: str):
    return client.post(
        "/referentiels/rncp",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _count(session) -> int:
    return session.exec(select(func.count(Referential.id))).one()


def test_upload_choose_preview_confirm_with_the_xml_export(session, login_as):
    admin = login_as(ADMIN)
    sent = _send(admin, xml_zip(XML_2027), "export-fiches-rncp-v4-1-2027-03-01.zip")
    assert sent.status_code == 303
    page = sent.headers["Location"]
    listed = admin.get(page, query_string={"q": "aide-soignant"}).get_data(as_text=True)
    assert 'value="RNCP35830"' in listed and "1 fiche(s) sur 1" in listed
    preview = admin.get(f"{page}/apercu", query_string={"fiches": "RNCP35830"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Révision : version 2" in body and "La version 1 reste en place" in body
    assert "Contribuer à la démarche qualité" in body  # C12, added
    assert "<del>Evaluation de l&#39;état clinique" in body
    before = _count(session)
    done = admin.post(f"{page}/apercu", data={"fiches": ["RNCP35830"]})
    assert done.status_code == 303
    assert _count(session) == before + 1
    latest = session.exec(
        select(Referential).where(Referential.code == "RNCP35830", Referential.version == 2)
    ).one()
    assert latest.previous_id is not None
    assert session.exec(select(Upload).where(Upload.purpose == "rncp")).first() is None
    index = admin.get("/referentiels/").get_data(as_text=True)
    assert "version 2" in index
    first = session.get(Referential, latest.previous_id)
    shown = admin.get(f"/referentiels/{first.public_id}").get_data(as_text=True)
    assert "Une version 2 la remplace" in shown and latest.public_id in shown
    shown = admin.get(f"/referentiels/{latest.public_id}").get_data(as_text=True)
    assert "Version 2." in shown and "Étude de situation en institut" in shown


def test_the_csv_export_lists_its_fiches_and_previews_a_new_one(session, login_as):
    admin = login_as(ADMIN)
    content = csv_zip(replace={"RNCP36004": "RNCP99004"})
    page = _send(admin, content, "export-fiches-csv-2026-12-01.zip").headers["Location"]
    listed = admin.get(page).get_data(as_text=True)
    assert "3 fiche(s) sur 3" in listed and 'value="RNCP99004"' in listed
    body = admin.get(f"{page}/apercu", query_string={"fiches": "RNCP99004"}).get_data(as_text=True)
    assert "Nouveau référentiel" in body and "évalué en entier" in body
    admin.post(f"{page}/apercu", data={"fiches": ["RNCP99004"]})
    ref = session.exec(select(Referential).where(Referential.code == "RNCP99004")).one()
    assert ref.title == "Diplôme d'État d'accompagnant éducatif et social"


def test_a_file_that_is_not_an_export_is_answered_beside_the_field(session, login_as):
    admin = login_as(ADMIN)
    for content, name, said in [
        (b"Numero_Fiche;Intitule\n", "fiches.csv", "Ce n&#39;est ni le zip"),
        (b"<FICHES><FICHE>", "export.xml", "illisible (ligne 1)"),
        (csv_zip()[:200], "export.zip", "zip est illisible"),
    ]:
        response = _send(admin, content, name)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, name
        assert said in body and 'aria-invalid="true"' in body, name
    assert session.exec(select(Upload).where(Upload.purpose == "rncp")).first() is None


def test_no_file_and_no_fiche_chosen_are_said(session, login_as):
    admin = login_as(ADMIN)
    response = admin.post("/referentiels/rncp", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choisissez le fichier" in response.get_data(as_text=True)
    page = _send(admin, XML_2026.read_bytes(), XML_2026.name).headers["Location"]
    response = admin.get(f"{page}/apercu")
    assert response.status_code == 422
    assert "Choisissez au moins une fiche" in response.get_data(as_text=True)
    # a number that is not in the file is not a choice
    response = admin.get(f"{page}/apercu", query_string={"fiches": "RNCP12345"})
    assert response.status_code == 422


def test_a_fiche_with_a_problem_saves_nothing(session, login_as):
    admin = login_as(ADMIN)
    page = _send(admin, XML_2026.read_bytes(), XML_2026.name).headers["Location"]
    before = _count(session)
    chosen = {"fiches": ["RNCP36004", "RNCP4495"]}
    preview = admin.get(f"{page}/apercu", query_string=chosen).get_data(as_text=True)
    assert "Rien ne sera importé" in preview and "Confirmer l&#39;import" not in preview
    response = admin.post(f"{page}/apercu", data=chosen)
    assert response.status_code == 422
    assert "RNCP4495 blocks" in response.get_data(as_text=True)
    assert _count(session) == before
    # the file is still there to choose again
    assert admin.get(page).status_code == 200


def test_the_search_narrows_by_number_or_title(session, login_as):
    admin = login_as(ADMIN)
    page = _send(admin, XML_2026.read_bytes(), XML_2026.name).headers["Location"]
    body = admin.get(page, query_string={"q": "éducatif"}).get_data(as_text=True)
    assert 'value="RNCP36004"' in body and 'value="RNCP35830"' not in body
    body = admin.get(page, query_string={"q": "4495"}).get_data(as_text=True)
    assert 'value="RNCP4495"' in body and 'value="RNCP36004"' not in body


def test_an_export_larger_than_the_apps_other_uploads_is_taken(session, login_as):
    # the app refuses requests over 2 MB; the register's export has room of its own
    big = XML_2026.read_bytes().replace(b"<FICHES>", b"<!--" + b" " * 2_200_000 + b"--><FICHES>")
    response = _send(login_as(ADMIN), big, XML_2026.name)
    assert response.status_code == 303


def test_an_export_over_its_limit_is_answered_beside_the_field(session, login_as, monkeypatch):
    from afest.blueprints import referential_register

    monkeypatch.setattr(referential_register, "REGISTER_MAX_UPLOAD", 1024 * 1024)
    big = XML_2026.read_bytes().replace(b"<FICHES>", b"<!--" + b" " * 1_200_000 + b"--><FICHES>")
    response = _send(login_as(ADMIN), big, XML_2026.name)
    assert response.status_code == 413
    assert "dépasse 100 Mo" in response.get_data(as_text=True)
    assert session.exec(select(Upload).where(Upload.purpose == "rncp")).first() is None


def test_the_search_reads_the_list_kept_and_a_file_gone_bad_saves_nothing(session, login_as):
    admin = login_as(ADMIN)
    page = _send(admin, XML_2026.read_bytes(), XML_2026.name).headers["Location"]
    kept = session.exec(select(Upload).where(Upload.purpose == "rncp")).one()
    index = session.exec(
        select(Upload).where(Upload.purpose == "rncp-index", Upload.filename == kept.public_id)
    ).one()
    assert b"RNCP36004" in index.content
    # the file is damaged where it is kept: the list of its fiches is still there to choose
    kept.content = b"<FICHES><FICHE>"
    session.add(kept)
    session.commit()
    body = admin.get(page, query_string={"q": "36004"}).get_data(as_text=True)
    assert 'value="RNCP36004"' in body
    before = _count(session)
    preview = admin.get(f"{page}/apercu", query_string={"fiches": "RNCP36004"})
    assert preview.status_code == 422 and "illisible" in preview.get_data(as_text=True)
    done = admin.post(f"{page}/apercu", data={"fiches": ["RNCP36004"]})
    assert done.status_code == 422 and "illisible" in done.get_data(as_text=True)
    assert _count(session) == before


def test_confirming_drops_the_file_and_its_list(session, login_as):
    admin = login_as(ADMIN)
    page = _send(admin, XML_2026.read_bytes(), XML_2026.name).headers["Location"]
    assert admin.post(f"{page}/apercu", data={"fiches": ["RNCP36004"]}).status_code == 303
    left = session.exec(select(Upload).where(Upload.purpose.in_(["rncp", "rncp-index"]))).all()
    assert left == []
    assert admin.get(page).status_code == 404
