"""The platform's seal: every PDF handed out carries a PAdES signature that pyHanko's
validator accepts with the platform's certificate as the only root, and any changed byte
breaks it; the self-signed development certificate is made once and kept."""

from __future__ import annotations

import types

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlmodel import select

from afest.models import Protocol, User
from afest.proof import seal

MANAGER = "direction@azur-aide.demo"


def _protocol(session, email: str) -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _pyhanko_status(pdf: bytes, sealer: seal.Sealer):
    """pyHanko's own verdict, as `pyhanko sign validate --trust platform.pem` gives it."""
    import io

    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[sealer.asn1_certificate()])
    return seal._outside_a_loop(validate_pdf_signature, signature, context)


def _changed(pdf: bytes, at: int) -> bytes:
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def test_the_pack_pdf_is_sealed_and_one_changed_byte_is_detected(app, session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    pdf = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.pdf").data
    sealer = seal.sealer(app)
    status = _pyhanko_status(pdf, sealer)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert seal.check_pdf(pdf, using=sealer).valid
    # a byte of the document itself (its first object, long before the signature)
    tampered = _changed(pdf, pdf.index(b" obj") + 40)
    status = _pyhanko_status(tampered, sealer)
    assert not status.intact
    check = seal.check_pdf(tampered, using=sealer)
    assert check.sealed and not check.valid


def test_another_certificate_is_not_trusted(app, tmp_path):
    from weasyprint import HTML

    ours = seal.sealer(app)
    other = seal.sealer(types.SimpleNamespace(config={"SEAL_DIR": str(tmp_path)}, instance_path=""))
    assert other.fingerprint != ours.fingerprint
    sealed = seal.seal(HTML(string="<p>Bonjour</p>").write_pdf(), using=other)
    assert seal.check_pdf(sealed, using=other).valid
    check = seal.check_pdf(sealed, using=ours)
    assert check.intact and not check.trusted and not check.valid


def test_an_unsealed_or_unreadable_pdf_is_said_so(app):
    from weasyprint import HTML

    sealer = seal.sealer(app)
    assert seal.check_pdf(HTML(string="<p>x</p>").write_pdf(), using=sealer).problem == "unsigned"
    assert not seal.check_pdf(b"%PDF-1.7 nothing", using=sealer).sealed


def test_the_development_certificate_is_made_once_and_kept(tmp_path):
    where = types.SimpleNamespace(config={"SEAL_DIR": str(tmp_path / "seal")}, instance_path="")
    first = seal.sealer(where).fingerprint
    seal._load.cache_clear()
    assert seal.sealer(where).fingerprint == first
    assert (tmp_path / "seal" / seal.FILE_NAME).stat().st_size > 0


def test_production_refuses_to_run_without_a_configured_certificate():
    where = types.SimpleNamespace(config={"ENV": "production"}, instance_path="/nonexistent")
    with pytest.raises(seal.SealNotConfigured):
        seal.sealer(where)


def test_a_configured_certificate_and_key_are_used(tmp_path):
    pem = seal._self_signed("afest test")
    key, cert = pem.split(b"-----END PRIVATE KEY-----\n")
    (tmp_path / "key.pem").write_bytes(key + b"-----END PRIVATE KEY-----\n")
    (tmp_path / "cert.pem").write_bytes(cert)
    config = {
        "ENV": "production",
        "SEAL_CERT": str(tmp_path / "cert.pem"),
        "SEAL_KEY": str(tmp_path / "key.pem"),
    }
    sealer = seal.sealer(types.SimpleNamespace(config=config, instance_path="/nonexistent"))
    assert sealer.certificate_pem == cert


def test_the_detached_seal_of_a_manifest_checks_exactly_its_bytes(app):
    sealer = seal.sealer(app)
    signature = seal.sign_detached(b'{"files": []}', using=sealer)
    assert seal.check_detached(b'{"files": []}', signature, using=sealer)
    assert not seal.check_detached(b'{"files": [] }', signature, using=sealer)
    assert not seal.check_detached(b'{"files": []}', signature[:-1], using=sealer)


def test_a_production_server_without_its_certificate_hands_out_no_unsealed_pdf(
    app, session, login_as, monkeypatch
):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    client = login_as(MANAGER)
    monkeypatch.setitem(app.config, "ENV", "production")
    response = client.get(f"/protocoles/{protocol.public_id}/preuve.pdf")
    assert response.status_code == 503
    assert "aucun document de preuve ne peut être scellé" in response.get_data(as_text=True)


def test_sealing_and_checking_work_where_an_event_loop_already_runs(app):
    """pyHanko's synchronous calls start a loop of their own: in a thread that runs one (an
    async server, a browser test's driver) they must still work."""
    import asyncio
    import threading

    from weasyprint import HTML

    sealer = seal.sealer(app)
    pdf = HTML(string="<p>Bonjour</p>").write_pdf()

    async def in_a_loop():
        sealed = seal.seal(pdf, using=sealer)
        signature = seal.sign_detached(b"{}", using=sealer)
        detached = seal.check_detached(b"{}", signature, using=sealer)
        return seal.check_pdf(sealed, using=sealer), detached

    found = []  # in a thread of its own: the suite's browser tests may run a loop in this one
    thread = threading.Thread(target=lambda: found.append(asyncio.run(in_a_loop())))
    thread.start()
    thread.join()
    ((check, detached),) = found
    assert check.valid and detached
