"""The proof pack downloads: a valid PDF whose pages are not blank, a workbook whose figures
match the database, formula-looking user text escaped, and page codes that verify."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import select

from afest.models import Evaluation, Protocol, ProtocolStatus, Sequence, User
from afest.proof.spreadsheets import escape_cell
from afest.sequences.operations import not_amended

MANAGER = "direction@azur-aide.demo"


def _protocol(session, email: str) -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: run make install")
    return subprocess.run(
        [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_is_valid_and_every_page_is_rendered_not_blank(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    assert protocol.status == ProtocolStatus.COMPLETED
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = response.data
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: run make install")
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    subprocess.run([tool, "-r", "30", "-gray", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert len(pages) >= 3
    for page in pages:
        data = page.read_bytes()
        # PGM: a header of three lines, then one byte per pixel (255 = white).
        pixels = data.split(b"\n", 3)[3]
        dark = sum(1 for b in pixels if b < 200)
        assert dark > 0.002 * len(pixels), f"{page.name} looks blank"
    text = _pdf_text(pdf, tmp_path)
    assert "Certificat de réalisation" in text
    assert "conditions d'une AFEST" in text and "sont remplies" in text


def test_pdf_of_an_incomplete_protocol_says_so_on_its_first_page(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant-incomplet@azur-aide.demo")
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf")
    assert response.status_code == 200
    first_page = _pdf_text(response.data, tmp_path).split("\f")[0]
    assert "ne remplit pas" in first_page
    assert "Analyse de l'activité" in first_page
    assert "Évaluations des acquis" in first_page


def test_every_page_code_verifies_and_a_forged_one_does_not(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    pdf = client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    pages = _pdf_text(pdf, tmp_path).split("\f")
    codes = [re.search(r"(\S+\.\d+\.\d+\.[A-Z2-7]{10})", p) for p in pages if p.strip()]
    assert codes and all(codes)
    codes = [m.group(1) for m in codes]
    assert len(set(codes)) == len(codes)  # one code per page
    for n, code in enumerate(codes, start=1):
        response = client.get("/verification", query_string={"code": code})
        assert response.status_code == 200
        assert f"Page {n} authentique" in response.get_data(as_text=True)
    forged = codes[0][:-1] + ("A" if codes[0][-1] != "A" else "B")
    response = client.get("/verification", query_string={"code": forged})
    assert response.status_code == 404
    assert "ne correspond à aucun" in response.get_data(as_text=True)


def test_a_pack_that_runs_past_its_page_bound_still_has_a_code_on_every_page(
    session, login_as, tmp_path, monkeypatch
):
    """Laid out again with as many codes as pages when the bound is too small."""
    from afest.proof import proofpack

    monkeypatch.setattr(proofpack, "_page_bound", lambda pack: 1)
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    pdf = client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    pages = [p for p in _pdf_text(pdf, tmp_path).split("\f") if p.strip()]
    assert len(pages) >= 3
    codes = [re.search(r"(\S+\.\d+\.(\d+)\.[A-Z2-7]{10})", p) for p in pages]
    assert all(codes)
    assert [int(m.group(2)) for m in codes] == list(range(1, len(pages) + 1))
    for n, match in enumerate(codes, start=1):
        body = client.get("/verification", query_string={"code": match.group(1)})
        assert f"Page {n} authentique" in body.get_data(as_text=True)


def test_a_record_changed_after_signature_is_reported(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    pdf = client.get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    code = re.search(r"(\S+\.\d+\.\d+\.[A-Z2-7]{10})", _pdf_text(pdf, tmp_path)).group(1)
    seq = session.exec(select(Sequence).where(Sequence.protocol_id == protocol.id)).first()
    seq.duration_minutes += 60  # tampering behind the application's back
    session.add(seq)
    session.commit()
    body = client.get("/verification", query_string={"code": code}).get_data(as_text=True)
    assert "ont changé depuis leur signature" in body
    assert seq.public_id in body


def test_xlsx_opens_and_its_figures_match_the_database(session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    facts = {row[0]: row[1] for row in book["Protocole"].iter_rows(values_only=True)}
    minutes, count = session.exec(
        select(func.sum(Sequence.duration_minutes), func.count(Sequence.id)).where(
            Sequence.protocol_id == protocol.id, not_amended()
        )
    ).one()
    evaluations = session.exec(
        select(func.count(Evaluation.id)).where(Evaluation.protocol_id == protocol.id)
    ).one()
    assert facts["Minutes réalisées"] == minutes
    assert facts["Séquences"] == count
    assert facts["Évaluations"] == evaluations
    assert facts["Minutes prévues"] == protocol.planned_minutes
    assert facts["Quatre conditions remplies"] == "oui"
    rows = list(book["Séquences"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == count
    assert sum(r[4] for r in rows) == minutes
    assert all(len(r[9]) == 64 for r in rows)  # every sequence signed by the tutor


def test_formula_looking_user_text_is_escaped_in_xlsx_and_csv(session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    seqs = session.exec(
        select(Sequence).where(Sequence.protocol_id == protocol.id).order_by(Sequence.id)
    ).all()
    for seq, text in zip(seqs, ["=1+1", "+33 6", "-2", "@SUM(A1)"], strict=False):
        seq.place = text  # a place typed on a tablet
        session.add(seq)
    protocol.objective = '=HYPERLINK("http://evil")'
    session.add(protocol)
    session.commit()
    client = login_as(MANAGER)
    book = load_workbook(
        io.BytesIO(client.get(f"/protocoles/{protocol.public_id}/preuve.xlsx").data)
    )
    places = [r[6] for r in book["Séquences"].iter_rows(min_row=2, values_only=True)]
    assert {"'=1+1", "'+33 6", "'-2", "'@SUM(A1)"} <= set(places)
    facts = {row[0]: row[1] for row in book["Protocole"].iter_rows(values_only=True)}
    assert facts["Objectif"] == '\'=HYPERLINK("http://evil")'
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    response = client.get(f"/protocoles/{protocol.public_id}/sequences.csv")
    assert response.status_code == 200
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert {"'=1+1", "'+33 6", "'-2", "'@SUM(A1)"} <= {r[6] for r in rows[1:]}


def test_opco_of_the_funder_downloads_and_others_do_not(session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    url = f"/protocoles/{protocol.public_id}/preuve.xlsx"
    assert login_as("conseil@uniformation.demo").get(url).status_code == 200
    assert login_as("tuteur@azur-aide.demo").get(url).status_code in (403, 404)
    assert login_as("apprenant@azur-aide.demo").get(url).status_code == 403
    assert login_as("conseil@opco-sante.demo").get(url).status_code == 404


def test_warm_up_lays_out_a_page_in_the_pack_fonts():
    from afest.proof import proofpack

    assert 0 < proofpack.warm_up() < 60
    assert "DejaVu Sans Mono" in proofpack.WARM_UP_HTML  # the fonts of the pack's codes


def test_every_page_header_prints_the_title_as_typed(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    protocol.title = 'AFEST d\'intégration "aide" <soin> \\ 1'
    session.add(protocol)
    session.flush()
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf")
    pages = _pdf_text(response.data, tmp_path).split("\f")
    headed = [page for page in pages if page.strip()]
    assert len(headed) >= 3
    for page in headed:
        assert 'AFEST d\'intégration "aide" <soin> \\ 1' in page
    assert "&#39;" not in "".join(pages)


def test_xlsx_and_csv_speak_words_not_the_codes_stored(session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    book = load_workbook(
        io.BytesIO(client.get(f"/protocoles/{protocol.public_id}/preuve.xlsx").data)
    )
    cells = {
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    response = client.get(f"/protocoles/{protocol.public_id}/sequences.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    cells |= {cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row}
    codes = {"completed", "situation", "reflection", "accompanied", "alone", "met", "final"}
    codes |= {"failed", "pending", "not_yet", "intermediate", "in_progress"}
    assert not cells & codes
    assert {"Terminé", "Mise en situation", "Séquence réflexive", "Remplie"} <= cells


def test_a_control_character_already_stored_never_stops_the_proof(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    # PostgreSQL refuses NUL in text; SQLite kept what older forms let through
    nul = "" if session.get_bind().dialect.name == "postgresql" else "\x00"
    protocol.objective = f"Toilette{nul} au\x0b lit\x01 : =SOMME(A1)"
    session.add(protocol)
    session.flush()
    client = login_as(MANAGER)
    for url in ("preuve.xlsx", "preuve.pdf", "sequences.csv"):
        assert client.get(f"/protocoles/{protocol.public_id}/{url}").status_code == 200, url
    book = load_workbook(
        io.BytesIO(client.get(f"/protocoles/{protocol.public_id}/preuve.xlsx").data)
    )
    facts = {row[0]: row[1] for row in book["Protocole"].iter_rows(values_only=True)}
    assert facts["Objectif"] == "Toilette au lit : =SOMME(A1)"


def test_a_sequence_stored_with_control_characters_exports_in_every_format_and_says_so(
    session, login_as, tmp_path
):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    seq = session.exec(
        select(Sequence).where(Sequence.protocol_id == protocol.id).order_by(Sequence.id)
    ).first()
    # as rows written before forms removed them: PostgreSQL refuses NUL in text, not the rest
    nul = "\x07" if session.get_bind().dialect.name == "postgresql" else "\x00"
    session.execute(
        sa.text("UPDATE sequence SET place = :place, intent = :intent WHERE id = :id"),
        {"place": f"Chambre{nul} 12\x1b", "intent": f"Aide{nul}\x7f au\u0085 lever", "id": seq.id},
    )
    session.commit()
    session.expire_all()
    client = login_as(MANAGER)
    base = f"/protocoles/{protocol.public_id}"
    responses = {url: client.get(f"{base}/{url}") for url in ("preuve.xlsx", "preuve.pdf")}
    responses["sequences.csv"] = client.get(f"{base}/sequences.csv")
    assert {url: r.status_code for url, r in responses.items()} == dict.fromkeys(responses, 200)

    book = load_workbook(io.BytesIO(responses["preuve.xlsx"].data))
    logged = {r[0]: r for r in book["Séquences"].iter_rows(min_row=2, values_only=True)}
    # an id may start with "-" (URL-safe base64), which is written as text, escaped
    written_id = escape_cell(seq.public_id)
    assert logged[written_id][6:8] == ("Chambre 12", "Aide au lever")
    facts = {row[0]: row[1] for row in book["Protocole"].iter_rows(values_only=True)}
    assert "Caractères de contrôle retirés : 5 " in facts["Note"]

    text_csv = responses["sequences.csv"].get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text_csv), delimiter=";"))
    by_id = {r[0]: r for r in rows[1:] if len(r) > 1}
    assert by_id[written_id][6:8] == ["Chambre 12", "Aide au lever"]
    assert rows[-1][0].startswith("Caractères de contrôle retirés : 5 ")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text_csv)

    pdf_text = _pdf_text(responses["preuve.pdf"].data, tmp_path)
    assert "Caractères de contrôle retirés" in pdf_text.split("\f")[0]
    assert "Chambre 12" in pdf_text


def test_a_pack_without_control_characters_says_nothing_of_them(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    base = f"/protocoles/{protocol.public_id}"
    book = load_workbook(io.BytesIO(client.get(f"{base}/preuve.xlsx").data))
    assert "Note" not in {row[0] for row in book["Protocole"].iter_rows(values_only=True)}
    assert "contrôle retirés" not in client.get(f"{base}/sequences.csv").get_data(as_text=True)
    pdf = client.get(f"{base}/preuve.pdf").data
    assert "contrôle retirés" not in _pdf_text(pdf, tmp_path)


def _hm(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes % 60 else f"{minutes // 60} h"


def test_the_certificate_states_the_signed_hours_with_a_block_to_sign(session, login_as, tmp_path):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    pdf = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    certificate = _pdf_text(pdf, tmp_path).split("Certificat de réalisation", 1)[1]
    certificate = certificate.split("Conformité", 1)[0]
    signed = session.exec(
        sa.text(
            "SELECT COALESCE(SUM(s.duration_minutes), 0) FROM sequence s WHERE s.protocol_id = :p"
            " AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)"
            " AND (SELECT COUNT(DISTINCT g.signer_role) FROM signature g"
            "      WHERE g.subject_kind = 'sequence' AND g.subject_id = s.id"
            "        AND g.signer_role IN ('tutor', 'learner')) = 2"
        ),
        params={"p": protocol.id},
    ).one()[0]
    assert signed > 0
    assert f"pour une durée de {_hm(signed)}." in certificate
    for blank in ("Fait à", "qualité du", "Cachet et signature"):  # wrapped in its column
        assert blank in certificate
    assert "Signé électroniquement" not in certificate


def test_no_certificate_for_a_protocol_without_signed_hours(
    session, make_protocol, login_as, tmp_path
):
    protocol, people = make_protocol()
    session.commit()
    client = login_as(people["manager"].email)
    pdf = client.get(f"/protocoles/{protocol.public_id}/preuve.pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data, tmp_path)
    assert "Pas de certificat de réalisation" in text
    assert "Cachet et signature" not in text and "Je soussigné" not in text
