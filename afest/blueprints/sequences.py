"""One sequence: read it, sign it (tutor), countersign it (learner), correct it, verify it.

A signed sequence is never edited: a correction is a new row that amends it, and the original
stays readable with its signatures. The verification recomputes the hash of the content as it
is stored now and compares it with the hash each signer signed.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from afest import policy
from afest.core import clock
from afest.core.database import get_session
from afest.core.http import REFUSED, perform, render
from afest.models import SignedKind
from afest.policy.loaders import load_sequence_or_404
from afest.proof import signatures
from afest.sequences import attachments, signing
from afest.sequences import operations as sequences
from afest.sequences import queries as sequence_view
from afest.sequences import screens as sequence_screens
from afest.sequences.forms import (
    CountersignForm,
    TutorSignForm,
    amendment_form,
)

bp = Blueprint("sequences", __name__, url_prefix="/sequences")


def _show(sequence, protocol, *, sign_form=None, countersign_form=None, status=200):
    return render(
        "sequences/show.html",
        view=sequence_view.sequence_view(get_session(), sequence, protocol),
        sign_form=sign_form or TutorSignForm(prefix="sign", formdata=None),
        countersign_form=countersign_form or CountersignForm(prefix="cs", formdata=None),
        can_tablet=policy.can_use_tablet(current_user, protocol),
        can_sign=policy.can_sign_sequence(current_user, protocol),
        can_countersign=policy.can_countersign_sequence(current_user, protocol),
        status=status,
    )


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """The sequence, its competences and levels, its signatures and its corrections."""
    sequence, protocol = load_sequence_or_404(public_id)
    return _show(sequence, protocol)


@bp.post("/<public_id>/signer")
@login_required
def sign(public_id: str):
    """The designated tutor signs, typing their PIN or password again (shared tablet)."""
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_sign_sequence)
    form = TutorSignForm(prefix="sign")
    if form.validate_on_submit() and (method := form.confirmed(get_session(), current_user.id)):
        arguments = {"protocol": protocol, "sequence": sequence, "method": method}
        if perform(form, signing.sign_as_tutor, default="secret", **arguments) is not REFUSED:
            flash(_l("Séquence signée."), "success")
            return redirect(url_for(".show", public_id=public_id))
    return _show(sequence, protocol, sign_form=form, status=422)


@bp.route("/<public_id>/contresigner", methods=["GET", "POST"])
@login_required
def countersign(public_id: str):
    """The learner countersigns with their password: on their account or on the tablet."""
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_countersign_sequence)
    form = CountersignForm(prefix="cs")
    if form.validate_on_submit() and form.confirmed(get_session(), protocol.learner_id):
        arguments = {"learner": protocol.learner, "protocol": protocol, "sequence": sequence}
        if perform(form, signing.countersign, confirmed=True, **arguments) is not REFUSED:
            flash(_l("Séquence contresignée."), "success")
            return redirect(url_for(".show", public_id=public_id))
    return _show(
        sequence, protocol, countersign_form=form, status=422 if form.is_submitted() else 200
    )


@bp.get("/<public_id>/pieces/<file_id>")
@login_required
def attachment(public_id: str, file_id: str):
    """A photo or document attached to the sequence, for whoever may read the sequence."""
    sequence, _protocol = load_sequence_or_404(public_id)
    return attachments.response(attachments.find(get_session(), sequence, file_id))


@bp.route("/<public_id>/corriger", methods=["GET", "POST"])
@login_required
@attachments.accepts_files
def amend(public_id: str):
    """Correct a sequence: a new version with the reason; the original is kept as it was."""
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_sign_sequence)
    form = amendment_form(get_session(), sequence, zone=clock.zone())
    if form.validate_on_submit() and not form.form_errors:
        arguments = {"protocol": protocol, "original": sequence, **form.amendment(clock.zone())}
        if amendment := perform(form, sequences.amend_sequence, **arguments):
            flash(_l("Correction enregistrée : la version d'origine est conservée."), "success")
            return redirect(url_for(".show", public_id=amendment.public_id))
    return _render_amend(sequence, protocol, form)


def _render_amend(sequence, protocol, form):
    page = sequence_screens.amend_page(get_session(), sequence, protocol, form)
    return render("sequences/amend.html", status=422 if form.is_submitted() else 200, **page)


@bp.get("/<public_id>/verification")
@login_required
def verify(public_id: str):
    """Does each signature still match the content stored now? (tampering shows here)"""
    sequence, protocol = load_sequence_or_404(public_id)
    checks = signatures.verify(get_session(), SignedKind.SEQUENCE, sequence)
    return render(
        "sequences/verify.html",
        sequence=sequence,
        protocol=protocol,
        checks=checks,
        current_hash=signatures.content_hash(get_session(), SignedKind.SEQUENCE, sequence),
    )
