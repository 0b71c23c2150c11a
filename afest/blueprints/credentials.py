"""Badges (Open Badges 3.0): a learner's, to download and keep; a structure's, to revoke;
anyone's, to check without an account, with the platform's published keys."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from afest import policy
from afest.core.database import get_session
from afest.core.extensions import csrf
from afest.core.http import REFUSED, perform, render, render_error, verification_limit
from afest.credentials import badges, keys
from afest.credentials.forms import IssueForm, RevokeForm, VerifyBadgeForm
from afest.models import IssuedCredential
from afest.policy.loaders import load_learner_or_404
from afest.proof import seal

bp = Blueprint("credentials", __name__)


@bp.app_errorhandler(keys.UnsuitableKey)
def _unsuitable(exc: keys.UnsuitableKey):
    """A seal key that cannot sign badges (production configured with another kind): say so
    rather than issue or check none without a word."""
    current_app.logger.error("%s", exc)
    detail = _l(
        "La clé de la plateforme ne permet pas de signer les badges (il faut une clé P-256) : "
        "prévenez l'administrateur."
    )
    return render_error(503, str(detail))


def _mine_page(learner, form=None, status: int = 200):
    earned = badges.earned_by(get_session(), learner)
    return render(
        "credentials/mine.html",
        learner=learner,
        earned=earned,
        form=form or IssueForm(),
        status=status,
    )


@bp.get("/parcours/<public_id>/badges")
@login_required
def mine(public_id: str):
    """What the learner has earned: each block validated and each AFEST completed."""
    return _mine_page(load_learner_or_404(public_id))


@bp.post("/parcours/<public_id>/badges")
@login_required
def issue(public_id: str):
    """Issue one of them (once), then download it."""
    learner = load_learner_or_404(public_id)
    form = IssueForm()
    chosen = badges.find_earned(get_session(), learner, form.earned.data)
    if form.validate_on_submit() and chosen is not None:
        arguments = {"item": chosen, "learner": learner, "app": current_app}
        issued = perform(
            form, badges.issue, default="earned", base_url=request.url_root, **arguments
        )
        if issued is not REFUSED:
            return redirect(url_for(".download", public_id=issued.public_id))
    return _mine_page(learner, form, status=422)


def _credential_or_404(public_id: str) -> IssuedCredential:
    row = (
        get_session()
        .exec(select(IssuedCredential).where(IssuedCredential.public_id == public_id))
        .first()
    )
    if row is None or not policy.can_view_credential(current_user, row):
        abort(404)
    return row


@bp.get("/badges/<public_id>")
@login_required
def show(public_id: str):
    """An issued badge: what it says, whether it still holds, and (issuer) its revocation."""
    return _show_page(_credential_or_404(public_id))


@bp.get("/badges/<public_id>.jwt")
@login_required
def download(public_id: str):
    """The badge as issued: a JWT (vc+jwt) a wallet or an employer's system imports."""
    row = _credential_or_404(public_id)
    name = f"badge-{row.block_code or 'afest'}-{row.public_id}.jwt"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(row.jwt, mimetype="application/vc+jwt", headers=headers)


def _show_page(row: IssuedCredential, form=None, status: int = 200):
    return render(
        "credentials/show.html",
        row=row,
        verdict=badges.verify(get_session(), row.jwt, current_app),
        form=form or RevokeForm(),
        can_revoke=policy.can_revoke_credential(current_user, row),
        status=status,
    )


@bp.post("/badges/<public_id>/revoquer")
@login_required
def revoke(public_id: str):
    """Revoke a badge (a fraud found): from now on its verification says so."""
    row = _credential_or_404(public_id)
    if not policy.can_revoke_credential(current_user, row):
        abort(403)
    form = RevokeForm()
    if form.validate_on_submit() and (
        perform(form, badges.revoke, row=row, reason=form.reason.data) is not REFUSED
    ):
        flash(_l("Badge révoqué."), "success")
        return redirect(url_for(".show", public_id=public_id))
    return _show_page(row, form, status=422)


@bp.get("/badges/revocations")
def revocations():
    """The revoked badges (the 1EdTech revocation list each badge's status names)."""
    return jsonify(badges.revocation_list(get_session(), request.url_root))


@bp.get("/.well-known/jwks.json")
def jwks():
    """The platform's public keys, which verify every badge it issued."""
    response = jsonify(keys.jwks(current_app))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/verification/badge", methods=["GET", "POST"])
@verification_limit
def verify_page():
    """Check a badge without an account: its signature, its issue, its revocation."""
    form = VerifyBadgeForm()
    verdict = None
    if form.validate_on_submit():
        verdict = badges.verify(get_session(), form.token.data, current_app)
    status = 422 if form.is_submitted() and (verdict is None or not verdict.valid) else 200
    fingerprint = seal.sealer(current_app).fingerprint
    return render(
        "credentials/verify.html",
        form=form,
        verdict=verdict,
        fingerprint=fingerprint,
        status=status,
    )


@bp.post("/verification/badge.json")
@csrf.exempt
@verification_limit
def verify_json():
    """The same check for a machine: the badge as the body (or {"jwt": ...}), a JSON verdict."""
    body = request.get_data(cache=False, as_text=True)[:60_000]
    verdict = badges.verify(get_session(), body, current_app)
    return jsonify(verdict.as_json()), 200 if verdict.valid else 422
