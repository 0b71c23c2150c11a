"""One sealed file to send: a protocol's proof pack as a ZIP.

The ZIP holds the pack's sealed PDF, its workbook, its CSV, any extra piece (a sequence's
attachments: `Piece(name, body)`), the platform's certificate, a note on how to check it all
(LISEZMOI.txt), and `manifest.json`: each piece's name, size and SHA-256, the signatures the
pack covers (Pack.last_signature_id fixes the set), the retention dates, and the audit chain's
head (now, and in the latest checkpoint kept outside the database). A manifest cannot hold its
own hash, so it is sealed by `manifest.json.p7s`, a detached CMS signature by the platform's
key, which `openssl cms -verify` checks with the certificate alone.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from afest.models import Certificate, Protocol, Sequence, Signature, SignedKind, User
from afest.proof import checkpoints, seal
from afest.proof.proofpack import Pack, _signature_scope

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SEAL = "manifest.json.p7s"
CERTIFICATE = "platform-certificate.pem"
NOTE = "LISEZMOI.txt"
CERTIFICATE_YEARS = 3  # the certificat de réalisation
PIECES_YEARS = 6  # every other piece of the action
# files compressed already (photos, PDFs, workbooks, a claim's packs): stored as they are,
# not deflated again
COMPRESSED = (".jpg", ".png", ".pdf", ".xlsx", ".zip")

NOTE_TEXT = """Dossier de preuve afest — comment le vérifier

Ce dossier est scellé par la plateforme qui l'a produit : {fingerprint}
(empreinte SHA-256 du certificat platform-certificate.pem ; comparez-la à celle que publie
la plateforme, sur sa page /verification, avant de lui faire confiance).

1. Le manifeste n'a pas changé depuis qu'il a été scellé :
   openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
     -CAfile platform-certificate.pem -out /dev/null
2. Chaque fichier est celui que le manifeste décrit :
   sha256sum de chaque fichier, comparé à son « sha256 » dans manifest.json.
3. Chaque PDF porte une signature PAdES de la plateforme (visible dans tout lecteur PDF) :
   pyhanko sign validate --trust platform-certificate.pem preuve.pdf
4. Les codes imprimés en bas des pages, ou ce fichier ZIP entier, se vérifient sur la page
   /verification de la plateforme : elle compare aussi les signatures à sa base de données.
"""


@dataclass(frozen=True)
class Piece:
    """A file of the ZIP: its name in the archive and its bytes (or the path to read them)."""

    name: str
    body: bytes | Path

    def read(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else Path(self.body).read_bytes()


def file_names(pack: Pack) -> dict[str, str]:
    """The names of the pack's own files in its ZIP."""
    stem = f"afest-preuve-{pack.protocol.public_id}"
    return {"pdf": f"{stem}.pdf", "xlsx": f"{stem}.xlsx", "csv": f"{stem}-sequences.csv"}


def _subject_ids(session: Session, kind: SignedKind, ids: set[int]) -> dict[int, str]:
    """The public identifiers of signed records (an evaluation has none: its number)."""
    model = {SignedKind.SEQUENCE: Sequence, SignedKind.CERTIFICATE: Certificate}.get(kind)
    if model is None or not ids:
        return {i: str(i) for i in ids}
    rows = session.exec(select(model.id, model.public_id).where(model.id.in_(list(ids))))
    return dict(rows.all())


def signatures(session: Session, pack: Pack) -> list[dict[str, Any]]:
    """The signatures the pack covers, in the order they were made, with their signers."""
    rows = session.exec(
        select(Signature, User.full_name)
        .join(User, User.id == Signature.signer_id)
        .where(_signature_scope(pack.protocol.id), Signature.id <= pack.last_signature_id)
        .order_by(Signature.id)
    ).all()
    by_kind: dict[SignedKind, set[int]] = {}
    for sig, _name in rows:
        by_kind.setdefault(SignedKind(sig.subject_kind), set()).add(sig.subject_id)
    names = {kind: _subject_ids(session, kind, ids) for kind, ids in by_kind.items()}
    names[SignedKind.PROTOCOL] = {pack.protocol.id: pack.protocol.public_id}
    return [
        {
            "id": sig.public_id,
            "kind": str(sig.subject_kind),
            "subject": names[SignedKind(sig.subject_kind)].get(sig.subject_id, ""),
            "signer_role": str(sig.signer_role),
            "signer": name,
            "signed_at": sig.signed_at.isoformat(),
            "method": sig.method,
            "content_sha256": sig.content_hash,
        }
        for sig, name in rows
    ]


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention(protocol: Protocol) -> dict[str, Any]:
    """How long the pieces are to be kept, counted from the end of the action: the day the
    protocol ended, or, while it runs, its planned end (to be counted again when it ends)."""
    if protocol.ended_at is not None:
        start, basis = protocol.ended_at.date(), "ended_at"
    else:
        start, basis = protocol.planned_end, "planned_end"
    return {
        "counted_from": basis,
        "end_of_action": start.isoformat(),
        "provisional": protocol.ended_at is None,
        "certificat_de_realisation_until": _years_after(start, CERTIFICATE_YEARS).isoformat(),
        "other_pieces_until": _years_after(start, PIECES_YEARS).isoformat(),
    }


def audit_heads(session: Session, protocol: Protocol, store: checkpoints.Store) -> dict:
    """The protocol's audit chain: its head now, and in the latest checkpoint (if any)."""
    chain = checkpoints.chain_name(protocol.id)
    now = checkpoints.heads(session).get(chain)
    found: dict[str, Any] = {"chain": chain, "head": None, "checkpoint": None}
    if now is not None:
        found["head"] = {"entry_id": now[0], "sha256": now[1]}
    try:
        latest = checkpoints.latest(store)
    except checkpoints.CheckpointError as error:
        found["checkpoint"] = {"problem": str(error)}
        return found
    if latest is not None and chain in latest.chains:
        entry_id, digest = latest.chains[chain]
        found["checkpoint"] = {"at": latest.at, "entry_id": entry_id, "sha256": digest}
    return found


def _entry(name: str, body: bytes) -> dict[str, Any]:
    return {"name": name, "size": len(body), "sha256": seal.sha256(body)}


def manifest(
    session: Session,
    pack: Pack,
    pieces: list[tuple[str, bytes]],
    *,
    sealer: seal.Sealer,
    store: checkpoints.Store,
) -> dict[str, Any]:
    """What the manifest states (before it is written out and sealed)."""
    protocol = pack.protocol
    return {
        "format": FORMAT,
        "kind": "afest-proof-pack",
        "protocol": {"id": protocol.public_id, "title": protocol.title},
        "exported_at": pack.exported_at.isoformat(),
        "last_signature": pack.last_signature_id,
        "platform_certificate_sha256": sealer.fingerprint,
        "files": [_entry(name, body) for name, body in pieces],
        "signatures": signatures(session, pack),
        "retention": retention(protocol),
        "audit": audit_heads(session, protocol, store),
    }


def protocol_zip(
    session: Session,
    pack: Pack,
    *,
    pdf: bytes,
    xlsx: bytes,
    csv: bytes,
    extra: list[Piece] | tuple[Piece, ...] = (),
    sealer: seal.Sealer,
    store: checkpoints.Store,
) -> bytes:
    """The ZIP of one protocol's pack. `pdf` is already sealed; `extra` adds pieces (a
    sequence's attachments) beside the pack's own, under their names."""
    names = file_names(pack)
    pieces = [(names["pdf"], pdf), (names["xlsx"], xlsx), (names["csv"], csv)]
    pieces += [(p.name, p.read()) for p in extra]
    pieces += [
        (CERTIFICATE, sealer.certificate_pem),
        (NOTE, NOTE_TEXT.format(fingerprint=sealer.fingerprint).encode()),
    ]
    taken = [name for name, _body in pieces]
    if len(set(taken)) != len(taken) or {MANIFEST, MANIFEST_SEAL} & set(taken):
        raise ValueError("two pieces of a ZIP have the same name")
    body = manifest(session, pack, pieces, sealer=sealer, store=store)
    manifest_bytes = json.dumps(body, ensure_ascii=False, indent=2).encode()
    return zip_of(
        [
            *pieces,
            (MANIFEST, manifest_bytes),
            (MANIFEST_SEAL, seal.sign_detached(manifest_bytes, using=sealer)),
        ],
        at=pack.exported_at,
    )


def zip_of(pieces: list[tuple[str, bytes]], *, at: datetime) -> bytes:
    """A ZIP of these files, in this order, each dated `at`: deflated, but for those that are
    compressed already (COMPRESSED), stored as they are."""
    stamp = _zip_time(at)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in pieces:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(COMPRESSED) else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, data)
    return out.getvalue()


def _zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    return (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)
