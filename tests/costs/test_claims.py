"""A structure's funding claim over a period: asked for from the statement of expenses, built
by the task queue (in place under the test suite), its progress shown, then one sealed ZIP
holding every protocol's pack, the structure's statement and a sealed manifest."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

from sqlmodel import select

from afest.core import clock
from afest.models import AuditEntry, ClaimArchive, Organisation
from afest.proof import bundle, claims, documents, seal

MANAGER = "direction@azur-aide.demo"
AZUR = "Azur Aide à Domicile"


def _structure(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def _url(structure, *parts: str) -> str:
    return "/".join([f"/structures/{structure.public_id}/dossiers-de-financement", *parts])


def _claims(session, structure) -> list[ClaimArchive]:
    return list(
        session.exec(select(ClaimArchive).where(ClaimArchive.structure_id == structure.id))
    )


def test_the_manager_asks_then_downloads_one_sealed_zip_of_the_period(app, session, login_as):
    structure = _structure(session)
    client = login_as(MANAGER)
    with app.app_context():
        period = {"du": "2026-01-01", "au": clock.today().isoformat()}
    page = client.get(f"/structures/{structure.public_id}/etat-des-depenses", query_string=period)
    assert "Dossier de financement de la période" in page.get_data(as_text=True)

    asked = client.post(_url(structure), data=period)
    assert asked.status_code == 302
    (claim,) = _claims(session, structure)
    assert asked.headers["Location"].endswith(_url(structure, claim.public_id))
    assert (claim.state, claim.period_start) == ("ready", date(2026, 1, 1))
    assert claim.total >= 2 and claim.done == claim.total
    audited = select(AuditEntry).where(
        AuditEntry.action == "claim.ask", AuditEntry.subject_id == claim.id
    )
    assert session.exec(audited).one()

    shown = client.get(_url(structure, claim.public_id)).get_data(as_text=True)
    assert "Le dossier est prêt" in shown and claim.sha256 in shown
    download = client.get(_url(structure, f"{claim.public_id}.zip"))
    assert download.status_code == 200 and download.mimetype == "application/zip"
    body = download.get_data()
    assert (len(body), seal.sha256(body)) == (claim.size, claim.sha256)

    sealer = seal.sealer(app)
    archive = zipfile.ZipFile(io.BytesIO(body))
    manifest_bytes = archive.read(bundle.MANIFEST)
    assert seal.check_detached(manifest_bytes, archive.read(bundle.MANIFEST_SEAL), using=sealer)
    manifest = json.loads(manifest_bytes)
    assert manifest["kind"] == "afest-funding-claim"
    assert manifest["structure"]["siret"] == structure.siret
    listed = {f["name"]: f for f in manifest["files"]}
    for name, entry in listed.items():
        data = archive.read(name)
        assert (len(data), seal.sha256(data)) == (entry["size"], entry["sha256"]), name
    packs = [p["file"] for p in manifest["protocols"]]
    assert len(packs) == claim.total and all(p in listed for p in packs)
    statement = [n for n in listed if n.startswith("etat-des-depenses-") and n.endswith(".pdf")]
    assert len(statement) == 1 and seal.check_pdf(archive.read(statement[0]), using=sealer).valid
    # each protocol's pack is the ZIP its own page hands out: its PDF sealed, its manifest too
    inner = zipfile.ZipFile(io.BytesIO(archive.read(packs[0])))
    pdfs = [n for n in inner.namelist() if n.endswith(".pdf")]
    assert seal.check_pdf(inner.read(pdfs[0]), using=sealer).valid
    inner_manifest = inner.read(bundle.MANIFEST)
    assert seal.check_detached(inner_manifest, inner.read(bundle.MANIFEST_SEAL), using=sealer)


def test_a_bad_period_is_said_beside_its_field_and_nothing_is_asked(session, login_as):
    structure = _structure(session)
    answer = login_as(MANAGER).post(_url(structure), data={"du": "2026-06-30", "au": "2026-01-01"})
    assert answer.status_code == 422
    assert "La fin de la période précède son début." in answer.get_data(as_text=True)
    assert _claims(session, structure) == []


def test_the_page_asks_again_while_the_claim_is_built(session, login_as):
    structure = _structure(session)
    manager_claim = claims.ask(
        session,
        actor_id=structure.id,  # any id: the page does not show who asked
        structure=structure,
        period=claims.expenses.Period(date(2026, 1, 1), date(2026, 3, 31)),
    )
    manager_claim.state, manager_claim.total, manager_claim.done = "building", 30, 12
    session.add(manager_claim)
    session.commit()
    client = login_as(MANAGER)
    fragment = client.get(
        _url(structure, manager_claim.public_id), headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and 'hx-trigger="every 2s"' in fragment
    assert "12 protocole(s) sur 30" in fragment and 'value="12"' in fragment
    # not built yet: nothing to download
    assert client.get(_url(structure, f"{manager_claim.public_id}.zip")).status_code == 404


def test_a_build_that_fails_says_so_and_keeps_no_file(app, session, login_as, monkeypatch):
    structure = _structure(session)

    def broken(*_args, **_kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(documents, "pack_zip", broken)
    client = login_as(MANAGER)
    asked = client.post(_url(structure), data={"du": "2026-01-01", "au": "2026-12-31"})
    assert asked.status_code == 302
    (claim,) = _claims(session, structure)
    assert claim.state == "failed" and claim.finished_at is not None
    page = client.get(_url(structure, claim.public_id)).get_data(as_text=True)
    assert "pas pu être constitué" in page and 'hx-trigger' not in page
    assert not claims.path_of(app, claim).exists()
    assert client.get(_url(structure, f"{claim.public_id}.zip")).status_code == 404


def test_the_verification_page_checks_a_claim_and_every_pack_in_it(app, session, login_as):
    structure = _structure(session)
    client = login_as(MANAGER)
    client.post(_url(structure), data={"du": "2026-01-01", "au": "2026-12-31"})
    (claim,) = _claims(session, structure)
    body = client.get(_url(structure, f"{claim.public_id}.zip")).get_data()

    def verified(data: bytes) -> str:
        upload = {"fichier": (io.BytesIO(data), "dossier.zip")}
        answer = app.test_client().post("/verification", data=upload)  # no account needed
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    page = verified(body)
    assert "Dossier authentique et complet" in page and "Échec" not in page
    assert page.count("protocoles/") >= 2 * claim.total  # each pack's own checks, by name
    # one byte of one protocol's PDF changed, the claim's manifest made again to match it:
    # the claim's seal fails, and so does that pack's
    archive = zipfile.ZipFile(io.BytesIO(body))
    first = json.loads(archive.read(bundle.MANIFEST))["protocols"][0]["file"]
    inner = zipfile.ZipFile(io.BytesIO(archive.read(first)))
    pdf_name = next(n for n in inner.namelist() if n.endswith(".pdf"))
    pdf = bytearray(inner.read(pdf_name))
    pdf[len(pdf) // 3] ^= 1
    changed_inner = io.BytesIO()
    with zipfile.ZipFile(changed_inner, "w") as out:
        for name in inner.namelist():
            out.writestr(name, bytes(pdf) if name == pdf_name else inner.read(name))
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as out:
        for name in archive.namelist():
            out.writestr(name, changed_inner.getvalue() if name == first else archive.read(name))
    page = verified(changed.getvalue())
    assert "Ce fichier ne prouve pas ce qu" in page
    assert f"« {first} » a été modifié depuis l" in page
    assert f"« {first} » : « {pdf_name} » a été modifié depuis l" in page
