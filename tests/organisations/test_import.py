"""The import of structures: a bad file answered beside the file field; a preview listing
every row with its line and problem; nothing saved until the whole file is valid; the same
file twice changes nothing the second time; French Excel CSV and XLSX alike."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import func, select

from afest.models import AuditEntry, Organisation, OrgKind, Role, Upload
from afest.proof import integrity
from tests.organisations.conftest import ADMIN, AZUR, new_siret, org, upload, xlsx

HEADER = "SIRET;Nom;Département;Catégorie;Code OPCO"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def count(session, model=Organisation) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def preview_of(client, content: bytes, name: str = "structures.csv"):
    """Send a file; answer the preview page it leads to."""
    sent = upload(client, content, name)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:2000]
    return sent.headers["Location"], client.get(sent.headers["Location"])


def file_error(page: str) -> str:
    found = re.search(r'<p class="error" id="file-error">(.*?)</p>', page, re.S)
    return found.group(1).replace("&#39;", "'") if found else ""


def rows_of(page: str) -> dict[int, str]:
    """Line number → the text of its "Résultat" cell, from the preview table."""
    body = page.split('<table class="preview">')[1]
    found = {}
    for line, cell in re.findall(
        r'<th scope="row">(\d+)</th>.*?<td>\s*(<span class="badge.*?)</td>\s*</tr>', body, re.S
    ):
        text = re.sub(r"<[^>]+>", " ", cell).replace("&#39;", "'")
        found[int(line)] = " ".join(text.split())
    return found


def test_every_kind_of_problem_is_listed_with_its_line_and_nothing_is_saved(session, login_as):
    admin = login_as(ADMIN)
    twice = new_siret()
    content = csv(
        f"{new_siret()};EHPAD Bon;13;EHPAD;UNIFORMATION",  # 2: valid
        "73282932000075;Mauvaise clé;13;EHPAD;UNIFORMATION",  # 3
        f"{twice};Premier;13;EHPAD;UNIFORMATION",  # 4
        f"{twice};Second;13;EHPAD;UNIFORMATION",  # 5
        f"{new_siret()};OPCO inconnu;13;EHPAD;OPCO-XYZ",  # 6
        f"{new_siret()};;13;EHPAD;UNIFORMATION",  # 7
        f"{new_siret()};Dép faux;20;EHPAD;UNIFORMATION",  # 8
        f"{new_siret()};Catégorie fausse;13;Crèche;UNIFORMATION",  # 9
        "7,75684E+13;Notation scientifique;13;EHPAD;UNIFORMATION",  # 10
    )
    before = count(session)
    url, page = preview_of(admin, content)
    body = page.get_data(as_text=True)
    rows = rows_of(body)
    assert rows[2].startswith("Nouvelle")
    assert "clé de contrôle" in rows[3]
    assert "SIRET répété ligne 5" in rows[4] and "SIRET déjà à la ligne 4" in rows[5]
    assert "OPCO inconnu : OPCO-XYZ" in rows[6] and "UNIFORMATION" in rows[6]
    assert "Nom vide." in rows[7]
    assert "Département inconnu : 20" in rows[8]
    assert "Catégorie inconnue : Crèche" in rows[9]
    assert "notation scientifique" in rows[10]
    assert all(rows[n].startswith("Erreur") for n in range(3, 11))
    assert "8 ligne(s) à corriger" in body
    assert f'action="{url}"' not in body  # no confirmation offered
    # confirming anyway saves nothing
    response = admin.post(url)
    assert response.status_code == 422
    assert count(session) == before


def test_a_valid_file_is_saved_whole_and_the_same_file_again_changes_nothing(
    session, login_as, uniformation, opco_sante
):
    admin = login_as(ADMIN)
    sirets = [new_siret() for _ in range(3)]
    content = csv(
        f"{sirets[0]};EHPAD Les Pins;83;EHPAD;UNIFORMATION",
        f"{sirets[1]};SAAD Mistral;2a;aide à domicile;opco-sante",
        f"{sirets[2][:3]} {sirets[2][3:6]} {sirets[2][6:9]} {sirets[2][9:]};Clinique;6;Hôpital;",
        f"{AZUR};Azur Aide à Domicile;06;SAAD;UNIFORMATION",  # already there, as it is
    )
    before = count(session)
    url, page = preview_of(admin, content)
    rows = rows_of(page.get_data(as_text=True))
    assert [rows[n].split()[0] for n in (2, 3, 4, 5)] == ["Nouvelle"] * 3 + ["Inchangée"]
    confirmed = admin.post(url)
    assert confirmed.status_code == 302
    assert "3 structure(s) créée(s), 0 mise(s) à jour, 1 inchangée(s)" in admin.get(
        confirmed.headers["Location"]
    ).get_data(as_text=True)
    assert count(session) == before + 3
    mistral = org(session, siret=sirets[1])
    assert (mistral.departement, mistral.category, mistral.opco_id) == ("2A", "SAAD", opco_sante.id)
    clinique = org(session, siret=sirets[2])
    assert (clinique.departement, clinique.category, clinique.opco_id) == ("06", "hospital", None)
    assert admin.get(url).status_code == 404  # the file is not kept once imported
    created = session.exec(
        select(AuditEntry).where(AuditEntry.action == "organisation.create").order_by(AuditEntry.id)
    ).all()[-3:]
    assert [e.subject_id for e in created] == [org(session, siret=s).id for s in sirets]
    assert not list(integrity.check_audit_chains(session))  # each entry chained to the last
    # the same file again: every row unchanged, nothing written but the import's own entry
    entries = count(session, AuditEntry)
    url, page = preview_of(admin, content)
    rows = rows_of(page.get_data(as_text=True))
    assert all(text.startswith("Inchangée") for text in rows.values()), rows
    assert admin.post(url).status_code == 302
    assert count(session) == before + 3
    assert count(session, AuditEntry) == entries + 1
    last = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "organisation.import"
    assert (last.after["created"], last.after["updated"], last.after["unchanged"]) == (0, 0, 4)


def test_a_changed_row_says_what_changes_and_only_that_is_saved(
    session, login_as, uniformation, opco_sante
):
    admin = login_as(ADMIN)
    azur = org(session, siret=AZUR)
    content = csv(f"{AZUR};Azur Aide à Domicile;06;SAAD;OPCO-SANTE")
    url, page = preview_of(admin, content)
    row = rows_of(page.get_data(as_text=True))[2]
    assert row == "Mise à jour OPCO : Uniformation → OPCO Santé"
    assert admin.post(url).status_code == 302
    session.refresh(azur)
    assert (azur.opco_id, azur.name) == (opco_sante.id, "Azur Aide à Domicile")


def test_french_excel_csv_in_windows_1252(session, login_as):
    admin = login_as(ADMIN)
    siret = new_siret()
    content = (
        "N° SIRET;Raison sociale;DÉPARTEMENT;Catégorie;Code OPCO;Branche\r\n"
        f"{siret};Résidence « Les Écureuils »;13;EHPAD;UNIFORMATION;Médico-social\r\n"
    ).encode("cp1252")
    url, page = preview_of(admin, content)
    assert "Résidence « Les Écureuils »" in page.get_data(as_text=True)
    assert admin.post(url).status_code == 302
    created = org(session, siret=siret)
    assert (created.name, created.branch) == ("Résidence « Les Écureuils »", "Médico-social")


def test_utf8_with_bom_and_commas(session, login_as):
    siret = new_siret()
    content = (
        b"\xef\xbb\xbf"
        + (
            f'siret,nom,departement,categorie,opco\n{siret},"EHPAD, Les Mûriers",971,EHPAD,\n'
        ).encode()
    )
    url, _page = preview_of(login_as(ADMIN), content)
    assert login_as(ADMIN).post(url).status_code == 302  # kept for its sender, any session
    assert org(session, siret=siret).name == "EHPAD, Les Mûriers"


def test_an_xlsx_made_with_openpyxl(session, login_as):
    admin = login_as(ADMIN)
    sirets = [new_siret(1234), new_siret()]
    assert sirets[0].startswith("00")  # a number cell drops its leading zeros
    content = xlsx(
        [
            ["SIRET", "Nom", "Département", "Catégorie", "Code OPCO"],
            [int(sirets[0]), "EHPAD Numérique", 6, "EHPAD", "UNIFORMATION"],
            [sirets[1], "SAAD Texte", "2B", "SAAD", "OPCO-SANTE"],
        ]
    )
    url, page = preview_of(admin, content, "structures.xlsx")
    rows = rows_of(page.get_data(as_text=True))
    assert rows == {2: "Nouvelle", 3: "Nouvelle"}
    assert admin.post(url).status_code == 302
    assert org(session, siret=sirets[0]).departement == "06"
    assert org(session, siret=sirets[1]).departement == "2B"


def test_the_rows_are_judged_again_on_confirmation(session, login_as, make_structure):
    admin = login_as(ADMIN)
    siret = new_siret()
    url, page = preview_of(admin, csv(f"{siret};EHPAD Tardif;13;EHPAD;UNIFORMATION"))
    assert rows_of(page.get_data(as_text=True))[2] == "Nouvelle"
    # meanwhile the OPCO's code and name change: the row no longer names a known OPCO
    uniformation = org(session, code="UNIFORMATION")
    uniformation.code, uniformation.name = "UNIF", "Unif"
    session.add(uniformation)
    session.flush()
    response = admin.post(url)
    assert response.status_code == 422
    assert "OPCO inconnu : UNIFORMATION" in response.get_data(as_text=True)
    assert session.exec(select(Organisation).where(Organisation.siret == siret)).first() is None


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"", "vide.csv", "Le fichier est vide."),
        (b"%PDF-1.7\n\x00\x01binary", "notice.pdf", "pas un tableau lisible"),
        (bytes(range(256)) * 8, "photo.jpg", "pas un tableau lisible"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "ancien.xls", "97-2003"),
        (b"SIRET;Nom;Departement\n1;a;13\n", "colonnes.csv", "« Catégorie », « Code OPCO »"),
        (HEADER.encode() + b"\n", "entetes.csv", "aucune ligne"),
        (b"x" * (1024 * 1024 + 1), "gros.csv", "dépasse 1 Mo"),
    ],
)
def test_a_bad_file_is_answered_beside_the_file_field(session, login_as, content, name, words):
    before = count(session, Upload)
    response = upload(login_as(ADMIN), content, name)
    assert response.status_code == 422
    assert words in file_error(response.get_data(as_text=True))
    assert count(session, Upload) == before


def test_no_file_and_a_request_over_the_app_limit(session, login_as):
    admin = login_as(ADMIN)
    response = admin.post("/admin/structures/import", data={})
    assert response.status_code == 422
    assert "Choisissez un fichier" in file_error(response.get_data(as_text=True))
    response = upload(admin, b"x" * (3 * 1024 * 1024), "enorme.csv")
    assert response.status_code == 413
    assert "dépasse 1 Mo" in file_error(response.get_data(as_text=True))


def test_a_file_is_its_senders_alone(session, login_as, make_user):
    url, _page = preview_of(login_as(ADMIN), csv(f"{new_siret()};A;13;EHPAD;UNIFORMATION"))
    other = make_user([(Role.ADMIN, None)], email="admin2@example.org")
    session.commit()
    assert other
    client = login_as("admin2@example.org")
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert login_as(ADMIN).get(url).status_code == 200


def test_a_new_file_replaces_the_previous_one(session, login_as):
    admin = login_as(ADMIN)
    first, _ = preview_of(admin, csv(f"{new_siret()};A;13;EHPAD;UNIFORMATION"))
    second, _ = preview_of(admin, csv(f"{new_siret()};B;13;EHPAD;UNIFORMATION"))
    assert admin.get(first).status_code == 404 and admin.get(second).status_code == 200


def test_structures_imported_are_in_the_kind_asked(session, login_as):
    admin = login_as(ADMIN)
    siret = new_siret()
    url, _page = preview_of(admin, csv(f"{siret};A;13;ESMS;"), "a.CSV")
    admin.post(url)
    assert org(session, siret=siret).kind == OrgKind.STRUCTURE
    assert io  # the module's helpers build files in memory
