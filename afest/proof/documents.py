"""A protocol's proof documents as they are handed out: the sealed PDF of its pack, and the
pack's ZIP (afest.proof.bundle). The same in a request and in a job of the task queue (which
renders them under a request context of PUBLIC_BASE_URL: afest.proof.claims)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from sqlmodel import Session, select

from afest.core.storage import MissingFile
from afest.costs import labels
from afest.models import Protocol
from afest.proof import bundle, checkpoints, proofpack, seal, spreadsheets
from afest.protocols import compliance
from afest.protocols import queries as protocol_queries
from afest.sequences import attachments


def protocols(session: Session, ids: list[int]) -> list[Protocol]:
    """These protocols with what their pack shows of them (as load_protocol_or_404 loads one),
    in the order of `ids`."""
    found = {
        p.id: p
        for p in session.exec(
            select(Protocol).where(Protocol.id.in_(ids)).options(*protocol_queries.with_parents())
        ).unique()
    }
    return [found[i] for i in ids if i in found]


def pack_of(session: Session, protocol) -> proofpack.Pack:
    settings = compliance.Settings.from_config(current_app.config)
    return proofpack.collect(session, protocol, settings=settings)


def sealed_pdf(session: Session, pack: proofpack.Pack) -> bytes:
    """The pack's PDF, each page with its verification code, sealed by the platform."""
    html = render_template(
        "proofpack/pack.html", pack=pack, CHECK_LABELS=compliance.STATE_LABELS, **labels.words()
    )
    secret = current_app.config["SECRET_KEY"]
    body = proofpack.render_pdf(
        session,
        pack,
        html,
        secret=secret,
        base_url=request.url_root,
        label=_("Code de vérification :"),
    )
    # the first page's code in the seal's reason, which the seal protects: the verification
    # page finds it there without reading the pages' text
    (first,) = proofpack.page_codes(session, pack, secret=secret, pages=1)
    reason = f"Dossier de preuve afest, code de vérification de la page 1 : {first}"
    return seal.seal(body, using=seal.sealer(current_app), reason=reason)


def pack_zip(session: Session, pack: proofpack.Pack) -> bytes:
    """The whole pack as one ZIP: the sealed PDF, the workbook, the CSV and a sealed manifest
    of their hashes, signatures and retention dates."""
    return bundle.protocol_zip(
        session,
        pack,
        pdf=sealed_pdf(session, pack),
        xlsx=spreadsheets.xlsx_bytes(pack),
        csv=("\ufeff" + spreadsheets.csv_text(pack)).encode(),
        extra=[_attached(file, name) for _s, file, name in pack.attached_files()],
        sealer=seal.sealer(current_app),
        store=checkpoints.Store.of(current_app),
    )


MISSING_NOTE = """Fichier manquant : {name}

Ce fichier est joint à une séquence du dossier (SHA-256 {sha256}, {size} octets), mais la
plateforme ne le trouve plus là où elle garde les pièces jointes. La commande
`flask afest verify` le signale ; le fichier d'origine peut être restauré depuis une
sauvegarde : son empreinte SHA-256 permet de vérifier que c'est bien lui.
"""


def _attached(file, name: str) -> bundle.Piece:
    """A file attached to a sequence, as a piece of the ZIP; one that cannot be found any
    more (removed from the storage outside afest) leaves a note in its place, with its hash,
    rather than no pack at all."""
    try:
        return bundle.Piece(name, attachments.read(file))
    except MissingFile:
        note = MISSING_NOTE.format(name=name, sha256=file.sha256, size=file.size)
        return bundle.Piece(f"{name}.manquant.txt", note.encode())
