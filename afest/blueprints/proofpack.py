"""The OPCO proof pack of a protocol (PDF, XLSX, CSV) and the page that verifies its codes."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from afest import policy
from afest.core.database import get_session
from afest.core.http import render, render_error
from afest.costs import labels
from afest.policy.loaders import load_protocol_or_404
from afest.proof import bundle, checkpoints, proofpack, seal, spreadsheets
from afest.protocols import compliance

bp = Blueprint("proofpack", __name__)


@bp.app_errorhandler(seal.SealNotConfigured)
def _unsealed(exc: seal.SealNotConfigured):
    """No proof document goes out unsealed: say so rather than hand out one without it."""
    current_app.logger.error("%s", exc)
    detail = _(
        "Le certificat de la plateforme n'est pas configuré : aucun document de preuve ne peut "
        "être scellé. Prévenez l'administrateur."
    )
    return render_error(503, detail)


def _pack(public_id: str) -> proofpack.Pack:
    protocol = load_protocol_or_404(public_id, require=policy.can_export_proof_pack)
    settings = compliance.Settings.from_config(current_app.config)
    return proofpack.collect(get_session(), protocol, settings=settings)


def _download(body: bytes | str, mimetype: str, pack: proofpack.Pack, ext: str) -> Response:
    name = f"afest-preuve-{pack.protocol.public_id}.{ext}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _sealed_pdf(pack: proofpack.Pack) -> bytes:
    html = render_template(
        "proofpack/pack.html", pack=pack, CHECK_LABELS=compliance.STATE_LABELS, **labels.words()
    )
    body = proofpack.render_pdf(
        get_session(),
        pack,
        html,
        secret=current_app.config["SECRET_KEY"],
        base_url=request.url_root,
        label=_("Code de vérification :"),
    )
    return seal.seal(body, using=seal.sealer(current_app))


@bp.get("/protocoles/<public_id>/preuve.pdf")
@login_required
def pdf(public_id: str):
    """The proof pack as a PDF, each page with its verification code, sealed by the platform."""
    pack = _pack(public_id)
    return _download(_sealed_pdf(pack), "application/pdf", pack, "pdf")


@bp.get("/protocoles/<public_id>/preuve.xlsx")
@login_required
def xlsx(public_id: str):
    """The same figures as a workbook."""
    pack = _pack(public_id)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(spreadsheets.xlsx_bytes(pack), mimetype, pack, "xlsx")


@bp.get("/protocoles/<public_id>/sequences.csv")
@login_required
def csv(public_id: str):
    """The sequence log as CSV."""
    pack = _pack(public_id)
    return _download("\ufeff" + spreadsheets.csv_text(pack), "text/csv", pack, "csv")


@bp.get("/protocoles/<public_id>/preuve.zip")
@login_required
def archive(public_id: str):
    """The whole pack as one ZIP: the sealed PDF, the workbook, the CSV and a sealed manifest
    of their hashes, signatures and retention dates."""
    pack = _pack(public_id)
    body = bundle.protocol_zip(
        get_session(),
        pack,
        pdf=_sealed_pdf(pack),
        xlsx=spreadsheets.xlsx_bytes(pack),
        csv=("\ufeff" + spreadsheets.csv_text(pack)).encode(),
        sealer=seal.sealer(current_app),
        store=checkpoints.Store.of(current_app),
    )
    return _download(body, "application/zip", pack, "zip")


@bp.get("/verification")
@login_required
def verify():
    """Check the verification code printed on a page of a proof pack."""
    code = (request.args.get("code") or "").strip()[:80]
    result = None
    if code:
        result = proofpack.verify_code(get_session(), code, secret=current_app.config["SECRET_KEY"])
    return render(
        "proofpack/verify.html",
        code=code,
        result=result,
        action=url_for("proofpack.verify"),
        status=200 if result is None or result.valid else 404,
    )
