"""The verification page, without an account: a pack's ZIP proves itself (manifest seal,
every file's hash, each PDF's PAdES seal validated by pyHanko, the page codes, the
signatures against the database), one changed byte of a PDF or of the manifest is found by
the code and by the page, and bad input is answered beside the field."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlmodel import select

from afest import create_app
from afest.core.database import database
from afest.core.extensions import limiter
from afest.models import Protocol, User
from afest.proof import bundle, seal, verification

MANAGER = "direction@azur-aide.demo"


def _protocol(session, email: str = "apprenant@azur-aide.demo") -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _pack_zip(login_as, session) -> bytes:
    protocol = _protocol(session)
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.zip")
    assert response.status_code == 200
    return response.data


def _files(body: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


def _flip(body: bytes, at: int) -> bytes:
    changed = bytearray(body)
    changed[at] ^= 0x01
    return bytes(changed)


def _check(app, session, body: bytes) -> verification.Report:
    with app.test_request_context():
        return verification.check(
            session, body, secret=app.config["SECRET_KEY"], sealer=seal.sealer(app)
        )


def _upload(client, body: bytes, name: str = "dossier.zip"):
    return client.post(
        "/verification",
        data={"fichier": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_every_pdf_of_the_zip_validates_with_pyhanko(app, session, login_as):
    files = _files(_pack_zip(login_as, session))
    trust = seal.sealer(app).asn1_certificate()
    pdfs = [name for name in files if name.endswith(".pdf")]
    assert pdfs
    for name in pdfs:
        (signature,) = PdfFileReader(io.BytesIO(files[name])).embedded_signatures
        context = ValidationContext(trust_roots=[trust])
        status = seal._outside_a_loop(validate_pdf_signature, signature, context)
        assert status.bottom_line, name


def test_the_intact_zip_proves_itself(app, session, login_as):
    report = _check(app, session, _pack_zip(login_as, session))
    assert report.ok, [c.text for c in report.checks if not c.ok]
    texts = " ".join(c.text for c in report.checks)
    assert "Le manifeste est scellé" in texts
    assert "codes de vérification sont authentiques" in texts
    assert "celles que la plateforme a enregistrées" in texts
    assert report.protocol_title == _protocol(session).title


def test_an_anonymous_auditor_uploads_the_zip_and_reads_what_it_proves(app, session, login_as):
    response = _upload(app.test_client(), _pack_zip(login_as, session))
    assert response.status_code == 200
    text = _page_text(response)
    assert "Dossier authentique et complet" in text and "Échec" not in text


def test_one_changed_byte_of_a_pdf_is_found_by_the_code_and_the_page(app, session, login_as):
    files = _files(_pack_zip(login_as, session))
    name = next(n for n in files if n.endswith(".pdf"))
    files[name] = _flip(files[name], files[name].index(b" obj") + 40)
    tampered = _rezip(files)
    report = _check(app, session, tampered)
    failed = [c.text for c in report.checks if not c.ok]
    assert not report.ok
    assert any(name in t and "modifié depuis l'export" in t for t in failed)
    assert any(name in t and "le sceau ne correspond pas" in t for t in failed)
    text = _page_text(_upload(app.test_client(), tampered))
    assert "ne prouve pas ce qu" in text and "le sceau ne correspond pas au contenu" in text


def test_one_changed_byte_of_the_manifest_is_found_by_the_code_and_the_page(app, session, login_as):
    files = _files(_pack_zip(login_as, session))
    raw = files[bundle.MANIFEST]
    files[bundle.MANIFEST] = _flip(raw, raw.index(b'"exported_at": "') + 18)  # a digit
    json.loads(files[bundle.MANIFEST])  # still a readable manifest
    tampered = _rezip(files)
    report = _check(app, session, tampered)
    assert not report.ok
    assert [c.text for c in report.checks if not c.ok] == [
        "Le sceau du manifeste ne correspond pas : le manifeste a été modifié, ou il n'a pas "
        "été produit par cette plateforme."
    ]
    text = _page_text(_upload(app.test_client(), tampered))
    assert "Le sceau du manifeste ne correspond pas" in text


def test_a_file_added_to_the_zip_is_reported(app, session, login_as):
    files = _files(_pack_zip(login_as, session))
    files["facture.pdf"] = b"%PDF-1.7 forged"
    report = _check(app, session, _rezip(files))
    failed = [c.text for c in report.checks if not c.ok]
    assert "« facture.pdf » a été ajouté au ZIP après l'export." in failed


def test_a_lone_pack_pdf_is_checked_with_its_codes(app, session, login_as):
    protocol = _protocol(session)
    pdf = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    response = _upload(app.test_client(), pdf, "preuve.pdf")
    text = _page_text(response)
    assert response.status_code == 200
    assert "Document authentique" in text and "codes de vérification sont authentiques" in text
    bad = _upload(app.test_client(), _flip(pdf, pdf.index(b" obj") + 40), "preuve.pdf")
    assert "le sceau ne correspond pas au contenu" in _page_text(bad)


def test_not_a_zip_nor_a_pdf_is_said_beside_the_field(app):
    response = _upload(app.test_client(), b"GIF89a not a pack", "dossier.zip")
    assert response.status_code == 422
    text = _page_text(response)
    assert 'id="fichier-error"' in text and "ni un ZIP ni un PDF" in text
    assert _upload(app.test_client(), b"PK\x03\x04broken", "d.zip").status_code == 422


def test_no_file_is_said_beside_the_field(app):
    response = app.test_client().post("/verification", data={})
    assert response.status_code == 422
    assert "Choisissez le fichier ZIP ou PDF" in response.get_data(as_text=True)


def test_a_file_too_big_is_refused_before_it_is_read(app):
    body = b"%PDF-1.7\n" + b"0" * (verification.MAX_UPLOAD + 1)
    response = _upload(app.test_client(), body, "gros.pdf")
    assert response.status_code in (413, 422)
    assert "Le fichier dépasse 20 Mo" in response.get_data(as_text=True)


def test_a_zip_bomb_is_refused_from_its_declared_sizes(app, session):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b"{}")
        archive.writestr("bombe.csv", b"\0" * (30 * 1024 * 1024))  # 30 MB in about 30 KB
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    response = _upload(app.test_client(), bomb)
    assert response.status_code == 422
    assert "se décompresse à plus de 100 fois sa taille" in response.get_data(as_text=True)


def test_a_zip_declaring_too_much_is_refused_before_it_is_inflated(app, monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", b"{}")
        archive.writestr("gros.bin", b"x" * 4096)
    monkeypatch.setattr(verification, "MAX_TOTAL", 4000)
    response = _upload(app.test_client(), out.getvalue())
    assert response.status_code == 422
    assert "se décompresse en plus de" in response.get_data(as_text=True)


def test_the_page_publishes_the_platform_certificate(app):
    client = app.test_client()
    sealer = seal.sealer(app)
    assert sealer.fingerprint in client.get("/verification").get_data(as_text=True)
    pem = client.get("/verification/certificat.pem")
    assert pem.status_code == 200 and pem.data == sealer.certificate_pem


@pytest.fixture()
def limited_app(app, tmp_path):
    """The same database with the verification page's limit on (3 a minute)."""
    limited = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "ENV": "testing",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "VERIFY_RATE_LIMIT": "3 per minute",
            "SEAL_DIR": str(tmp_path / "seal"),
        }
    )
    database(limited).bind = database(app).bind
    yield limited
    limiter.init_app(app)  # Flask-Limiter's state is module-global: give it back to `app`
    limiter.enabled = False


def test_each_client_is_limited_on_the_public_page(limited_app):
    client = limited_app.test_client()
    answers = [client.get("/verification?code=x.1.1.AAAAAAAAAA").status_code for _ in range(3)]
    assert answers == [404, 404, 404]
    refused = client.get("/verification?code=x.1.1.AAAAAAAAAA")
    assert refused.status_code == 429
    assert "Trop de vérifications depuis votre poste" in refused.get_data(as_text=True)
    assert _upload(client, b"GIF89a").status_code == 429  # the upload counts with them
