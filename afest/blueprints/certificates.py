"""The certificat de réalisation of a protocol: the page where the structure's manager, the
dispensateur's signatory, reads it as it stands and signs it with her password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.accounts.login import confirms_own_password
from afest.core import clock
from afest.core.database import get_session
from afest.core.http import REFUSED, perform, render
from afest.models import Protocol
from afest.policy.loaders import load_protocol_or_404
from afest.proof import certificates
from afest.proof.forms import CertificateSignForm

bp = Blueprint("certificates", __name__)


def _page(protocol: Protocol, form: CertificateSignForm, *, status: int = 200):
    """The certificate as it would be signed now, the former ones, and the form."""
    state = certificates.state(get_session(), protocol, zone=clock.zone())
    return render(
        "certificates/sign.html", protocol=protocol, state=state, form=form, status=status
    )


@bp.get("/protocoles/<public_id>/certificat")
@login_required
def show(public_id: str):
    """The certificate to sign, prefilled with the signatory's role and place of last time."""
    protocol = load_protocol_or_404(public_id, require=policy.can_sign_certificate)
    form = CertificateSignForm(formdata=None)
    known = certificates.prefill(get_session(), actor_id=current_user.id, protocol=protocol)
    form.role.data, form.place.data = known["role"], known["place"]
    return _page(protocol, form)


@bp.post("/protocoles/<public_id>/certificat")
@login_required
def sign(public_id: str):
    """Sign the certificate as it stands, confirming with one's password (checked before the
    write: slow on purpose)."""
    protocol = load_protocol_or_404(public_id, require=policy.can_sign_certificate)
    form = CertificateSignForm()
    if form.validate_on_submit() and confirms_own_password(form):
        arguments = {"protocol": protocol, "role": form.role.data, "place": form.place.data}
        done = perform(form, certificates.sign_certificate, default="password", **arguments)
        if done is not REFUSED:
            flash(_("Certificat de réalisation signé."), "success")
            return redirect(url_for("protocols.show", public_id=public_id, _anchor="certificat"))
    return _page(protocol, form, status=422)
