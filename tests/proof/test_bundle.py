"""The ZIP of one protocol: its pieces as the manifest describes them, the manifest sealed by
a detached CMS signature openssl accepts, the signatures the pack covers, the retention
dates and the audit chain's head; an extra piece goes in by one line."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile

import pytest
from sqlmodel import select

from afest.models import Protocol, Signature, User
from afest.proof import bundle, checkpoints, seal
from afest.proof.proofpack import _signature_scope

MANAGER = "direction@azur-aide.demo"


def _protocol(session, email: str) -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _zip(login_as, protocol) -> zipfile.ZipFile:
    response = login_as(MANAGER).get(f"/protocoles/{protocol.public_id}/preuve.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"afest-preuve-{protocol.public_id}.zip" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_zip_holds_what_its_manifest_says(app, session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    archive = _zip(login_as, protocol)
    manifest = json.loads(archive.read(bundle.MANIFEST))
    names = {f["name"] for f in manifest["files"]}
    assert set(archive.namelist()) == names | {bundle.MANIFEST, bundle.MANIFEST_SEAL}
    stem = f"afest-preuve-{protocol.public_id}"
    assert {f"{stem}.pdf", f"{stem}.xlsx", f"{stem}-sequences.csv", bundle.CERTIFICATE} <= names
    for entry in manifest["files"]:
        body = archive.read(entry["name"])
        assert len(body) == entry["size"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    sealer = seal.sealer(app)
    assert manifest["platform_certificate_sha256"] == sealer.fingerprint
    assert seal.check_pdf(archive.read(f"{stem}.pdf"), using=sealer).valid
    assert seal.check_detached(
        archive.read(bundle.MANIFEST), archive.read(bundle.MANIFEST_SEAL), using=sealer
    )


def test_the_manifest_lists_the_signatures_of_the_pack(app, session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    manifest = json.loads(_zip(login_as, protocol).read(bundle.MANIFEST))
    stored = session.exec(
        select(Signature).where(_signature_scope(protocol.id)).order_by(Signature.id)
    ).all()
    assert stored, "the demo's protocol is signed"
    assert [s["id"] for s in manifest["signatures"]] == [s.public_id for s in stored]
    assert [s["content_sha256"] for s in manifest["signatures"]] == [s.content_hash for s in stored]
    assert manifest["last_signature"] == stored[-1].id
    first = manifest["signatures"][0]
    assert first["signer"] and first["signed_at"] and first["signer_role"] and first["subject"]


def test_retention_is_counted_from_the_end_of_the_action(session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    kept = json.loads(_zip(login_as, protocol).read(bundle.MANIFEST))["retention"]
    end = protocol.ended_at.date() if protocol.ended_at else protocol.planned_end
    assert kept["end_of_action"] == end.isoformat()
    assert kept["certificat_de_realisation_until"] == end.replace(year=end.year + 3).isoformat()
    assert kept["other_pieces_until"] == end.replace(year=end.year + 6).isoformat()
    assert kept["provisional"] is (protocol.ended_at is None)


def test_the_audit_head_and_its_latest_checkpoint_are_in_the_manifest(app, session, login_as):
    protocol = _protocol(session, "apprenant@azur-aide.demo")
    before = json.loads(_zip(login_as, protocol).read(bundle.MANIFEST))["audit"]
    assert before["head"] is not None and before["checkpoint"] is None
    checkpoints.write(session, checkpoints.Store.of(app))
    after = json.loads(_zip(login_as, protocol).read(bundle.MANIFEST))["audit"]
    assert after["checkpoint"]["entry_id"] == before["head"]["entry_id"]
    assert after["checkpoint"]["sha256"] == before["head"]["sha256"]


def test_an_extra_piece_goes_in_by_one_line_and_into_the_manifest(app, session, tmp_path):
    from afest.proof import proofpack

    with app.app_context():
        pack = proofpack.collect(session, _protocol(session, "apprenant@azur-aide.demo"))
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7 scan")
    extra = [
        bundle.Piece("pieces-jointes/photo.jpg", b"\xff\xd8\xff jpeg"),
        bundle.Piece("pieces-jointes/scan.pdf", tmp_path / "scan.pdf"),
    ]
    body = bundle.protocol_zip(
        session,
        pack,
        pdf=b"%PDF",
        xlsx=b"x",
        csv=b"c",
        extra=extra,
        sealer=seal.sealer(app),
        store=checkpoints.Store.of(app),
    )
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.read("pieces-jointes/photo.jpg") == b"\xff\xd8\xff jpeg"
    entries = {f["name"]: f for f in json.loads(archive.read(bundle.MANIFEST))["files"]}
    assert entries["pieces-jointes/photo.jpg"]["size"] == 8
    assert archive.read("pieces-jointes/scan.pdf") == b"%PDF-1.7 scan"
    assert (
        entries["pieces-jointes/scan.pdf"]["sha256"] == hashlib.sha256(b"%PDF-1.7 scan").hexdigest()
    )
    with pytest.raises(ValueError):
        bundle.protocol_zip(
            session,
            pack,
            pdf=b"%PDF",
            xlsx=b"x",
            csv=b"c",
            extra=[bundle.Piece(bundle.MANIFEST, b"{}")],
            sealer=seal.sealer(app),
            store=checkpoints.Store.of(app),
        )


def test_openssl_checks_the_manifest_seal_with_the_certificate_alone(session, login_as, tmp_path):
    tool = shutil.which("openssl")
    if tool is None:
        pytest.skip("openssl is not installed")
    archive = _zip(login_as, _protocol(session, "apprenant@azur-aide.demo"))
    archive.extractall(tmp_path)

    def openssl_verify() -> subprocess.CompletedProcess:
        return subprocess.run(
            [tool, "cms", "-verify", "-binary", "-inform", "DER", "-in", bundle.MANIFEST_SEAL,
             "-content", bundle.MANIFEST, "-CAfile", bundle.CERTIFICATE, "-out", "/dev/null"],
            cwd=tmp_path, capture_output=True, check=False,
        )  # fmt: skip

    assert openssl_verify().returncode == 0
    manifest = tmp_path / bundle.MANIFEST
    changed = bytearray(manifest.read_bytes())
    changed[changed.index(b'"sha256": "') + 11] ^= 0x01  # one hex digit of a file's hash
    manifest.write_bytes(bytes(changed))
    assert openssl_verify().returncode != 0
