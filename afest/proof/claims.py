"""A structure's funding claim over a period as one sealed ZIP, built on the task queue.

An OPCO reimburses an in-house AFEST on the employer's statement of expenses and the proof of
each action. The claim holds, for every protocol of the statement's period, its pack's ZIP
(afest.proof.bundle: sealed PDF, workbook, CSV, sealed manifest) under `protocoles/`, the
structure's statement of expenses as a sealed PDF and as a workbook, the platform's
certificate, a note on how to check it all, and `manifest.json` (each file's size and
SHA-256, the structure, the period and each protocol's pack) sealed by `manifest.json.p7s`.

Building it takes seconds per protocol: the manager's request only records it (a
ClaimArchive, queued) and a job builds it, counting the protocols done, which the claim's
page shows until the download is ready. The file is kept under the instance folder
(`claims/<id>.zip`, written whole then renamed into place).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit, clock
from afest.core.database import database
from afest.core.jobs import job
from afest.costs import labels, queries
from afest.models import ClaimArchive, Organisation, utcnow
from afest.proof import bundle, documents, expenses, proofpack, seal, spreadsheets
from afest.proof.verification import CLAIM_KIND

log = logging.getLogger(__name__)

STATE_LABELS = {
    "queued": _l("en attente"),
    "building": _l("en préparation"),
    "ready": _l("prêt"),
    "failed": _l("échec"),
}
STATES = tuple(STATE_LABELS)
FORMAT = 1


def folder(app) -> Path:
    return Path(app.config.get("CLAIMS_DIR") or Path(app.instance_path) / "claims")


def path_of(app, claim: ClaimArchive) -> Path:
    return folder(app) / f"{claim.public_id}.zip"


def file_name(claim: ClaimArchive) -> str:
    return f"afest-dossier-{claim.period_start.isoformat()}-{claim.period_end.isoformat()}.zip"


def ask(
    session: Session, *, actor_id: int, structure: Organisation, period: expenses.Period
) -> ClaimArchive:
    """Record a claim to build (the caller enqueues `build_claim` once this commits)."""
    claim = ClaimArchive(
        structure_id=structure.id,
        requested_by_id=actor_id,
        period_start=period.start,
        period_end=period.end,
    )
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="claim.ask",
        subject_kind="claimarchive",
        subject_id=claim.id,
        structure_id=structure.id,
        after={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )
    return claim


def of_structure(session: Session, structure: Organisation, limit: int = 10) -> list:
    """The structure's latest claims, newest first."""
    return list(
        session.exec(
            select(ClaimArchive)
            .where(ClaimArchive.structure_id == structure.id)
            .order_by(ClaimArchive.id.desc())
            .limit(limit)
        )
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "protocole"


def _progress(public_id: str, **values) -> None:
    with database().session(write=True) as session:
        claim = session.exec(select(ClaimArchive).where(ClaimArchive.public_id == public_id)).one()
        for name, value in values.items():
            setattr(claim, name, value)
        session.add(claim)
        session.commit()


def _statement_pieces(session: Session, structure: Organisation, period) -> list[tuple]:
    found = queries.structure_statement(session, structure, period, zone=clock.zone())
    html = render_template("costs/statement_pdf.html", found=found, **labels.words())
    pdf = proofpack.plain_pdf(html, base_url=current_app.config["PUBLIC_BASE_URL"])
    stem = f"etat-des-depenses-{period.start.isoformat()}-{period.end.isoformat()}"
    return [
        (f"{stem}.pdf", seal.seal(pdf, using=seal.sealer(current_app))),
        (f"{stem}.xlsx", spreadsheets.statement_xlsx(found)),
    ]


def _write(app, claim_id: str, pieces: list[tuple[str, bytes]], head: dict) -> tuple[int, str]:
    """The ZIP written whole beside its place, then renamed into it: (size, sha256)."""
    sealer = seal.sealer(app)
    pieces = [
        *pieces,
        (bundle.CERTIFICATE, sealer.certificate_pem),
        (bundle.NOTE, bundle.NOTE_TEXT.format(fingerprint=sealer.fingerprint).encode()),
    ]
    body = {
        **head,
        "platform_certificate_sha256": sealer.fingerprint,
        "files": [{"name": n, "size": len(b), "sha256": seal.sha256(b)} for n, b in pieces],
    }
    manifest = json.dumps(body, ensure_ascii=False, indent=2).encode()
    pieces += [
        (bundle.MANIFEST, manifest),
        (bundle.MANIFEST_SEAL, seal.sign_detached(manifest, using=sealer)),
    ]
    data = bundle.zip_of(pieces, at=utcnow())
    place = folder(app) / f"{claim_id}.zip"
    place.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=place.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, place)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(data), seal.sha256(data)


def build(claim_id: str) -> str:
    """Build the claim's ZIP; answer its state. A claim already ready is left as it is."""
    app = current_app._get_current_object()
    db = database()
    with db.session() as session:
        claim = session.exec(select(ClaimArchive).where(ClaimArchive.public_id == claim_id)).first()
        if claim is None or claim.state == "ready":
            return claim.state if claim else "missing"
        structure = session.get(Organisation, claim.structure_id)
        period = expenses.Period(claim.period_start, claim.period_end)
        found = queries.structure_statement(session, structure, period, zone=clock.zone())
        protocol_ids = [c.protocol.id for c in found.protocols]
    _progress(claim_id, state="building", total=len(protocol_ids), done=0, problem="")
    try:
        base = app.config["PUBLIC_BASE_URL"]
        pieces, packs = [], []
        with app.test_request_context("/", base_url=base):
            # one session a protocol, closed before its progress is written
            for done, protocol_id in enumerate(protocol_ids, start=1):
                with db.session() as session:
                    (protocol,) = documents.protocols(session, [protocol_id])
                    pack = documents.pack_of(session, protocol)
                    name = f"protocoles/{_slug(protocol.title)}-{protocol.public_id}.zip"
                    pieces.append((name, documents.pack_zip(session, pack)))
                    packs.append(
                        {
                            "file": name,
                            "protocol": protocol.public_id,
                            "title": protocol.title,
                            "last_signature": pack.last_signature_id,
                        }
                    )
                _progress(claim_id, done=done)
            with db.session() as session:
                structure = session.get(Organisation, structure.id)
                pieces += _statement_pieces(session, structure, period)
        head = {
            "format": FORMAT,
            "kind": CLAIM_KIND,
            "structure": {
                "id": structure.public_id,
                "name": structure.name,
                "siret": structure.siret,
            },
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
            "exported_at": utcnow().isoformat(),
            "protocols": packs,
        }
        size, digest = _write(app, claim_id, pieces, head)
    except Exception as error:
        log.exception("claim %s: could not be built", claim_id)
        _progress(claim_id, state="failed", finished_at=utcnow(), problem=type(error).__name__)
        return "failed"
    _progress(claim_id, state="ready", size=size, sha256=digest, finished_at=utcnow())
    return "ready"


@job()
def build_claim(claim_id: str) -> str:
    """Build a funding claim's ZIP (asked for by a structure's manager)."""
    return build(claim_id)
