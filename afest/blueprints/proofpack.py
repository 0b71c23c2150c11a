"""The OPCO proof pack of a protocol (PDF, XLSX, CSV, or all of them in one sealed ZIP), and the
public page that verifies a page's code, a pack's ZIP or a sealed PDF."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from afest import policy
from afest.core.database import get_session
from afest.core.http import render, render_error, verification_limit
from afest.policy.loaders import load_protocol_or_404
from afest.proof import documents, proofpack, seal, spreadsheets, verification
from afest.proof.forms import VerifyUploadForm, too_big

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
    return documents.pack_of(get_session(), protocol)


def _download(body: bytes | str, mimetype: str, pack: proofpack.Pack, ext: str) -> Response:
    name = f"afest-preuve-{pack.protocol.public_id}.{ext}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/protocoles/<public_id>/preuve.pdf")
@login_required
def pdf(public_id: str):
    """The proof pack as a PDF, each page with its verification code, sealed by the platform."""
    pack = _pack(public_id)
    return _download(documents.sealed_pdf(get_session(), pack), "application/pdf", pack, "pdf")


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
    return _download(documents.pack_zip(get_session(), pack), "application/zip", pack, "zip")


# Public: an auditor holding a pack may have no account. The pages say nothing the file's
# holder does not already read in it; each client is limited (VERIFY_RATE_LIMIT).
_limited = verification_limit


def _verify_page(*, code: str = "", result=None, form=None, report=None, status: int = 200):
    return render(
        "proofpack/verify.html",
        code=code,
        result=result,
        form=form or VerifyUploadForm(),
        report=report,
        action=url_for("proofpack.verify"),
        upload_action=url_for("proofpack.verify_upload"),
        fingerprint=seal.sealer(current_app).fingerprint,
        status=status,
    )


@bp.get("/verification")
@_limited
def verify():
    """Check the verification code printed on a page of a proof pack."""
    code = (request.args.get("code") or "").strip()[:80]
    result = None
    if code:
        result = proofpack.verify_code(get_session(), code, secret=current_app.config["SECRET_KEY"])
    return _verify_page(
        code=code, result=result, status=200 if result is None or result.valid else 404
    )


def _too_big_page():
    form = VerifyUploadForm(formdata=None)
    form.fichier.errors = [too_big()]
    return _verify_page(form=form, status=413)


def _submitted_upload() -> tuple[VerifyUploadForm | None, bool]:
    """The upload form as sent and whether it is valid; no form when the request is larger
    than this form's own limit."""
    request.max_content_length = verification.MAX_UPLOAD + 64 * 1024
    if (request.content_length or 0) > request.max_content_length:
        return None, False
    try:
        form = VerifyUploadForm()
        return form, form.validate_on_submit()
    except RequestEntityTooLarge:
        return None, False


@bp.post("/verification")
@_limited
def verify_upload():
    """Check a pack's ZIP or one sealed PDF: its seals, its hashes, its codes, its signatures."""
    form, valid = _submitted_upload()
    if form is None:
        return _too_big_page()
    if not valid:
        return _verify_page(form=form, status=422)
    secret, sealer = current_app.config["SECRET_KEY"], seal.sealer(current_app)
    try:
        report = verification.check(get_session(), form.content, secret=secret, sealer=sealer)
    except verification.BadUpload as exc:
        form.fichier.errors = [str(exc)]
        return _verify_page(form=form, status=422)
    return _verify_page(form=form, report=report)


@bp.get("/verification/certificat.pem")
def certificate():
    """The platform's certificate, the trust root of its seals."""
    body = seal.sealer(current_app).certificate_pem
    headers = {"Content-Disposition": 'attachment; filename="platform-certificate.pem"'}
    return Response(body, mimetype="application/x-pem-file", headers=headers)
