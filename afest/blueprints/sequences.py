"""One sequence: read it, sign it (tutor), countersign it (learner), correct it, verify it.

A signed sequence is never edited: a correction is a new row that amends it, and the original
stays readable with its signatures. The verification recomputes the hash of the content as it
is stored now and compares it with the hash each signer signed.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from afest import policy
from afest.blueprints.tablet import tz
from afest.core.database import database, get_session
from afest.core.errors import ServiceError
from afest.core.http import render
from afest.models import SequenceKind, SignedKind
from afest.policy.loaders import load_sequence_or_404
from afest.proof import signatures
from afest.sequences import operations as sequences
from afest.sequences import queries as sequence_view
from afest.sequences import tablet as tablet_view
from afest.sequences.forms import (
    CountersignForm,
    ReflectionAmendForm,
    SituationAmendForm,
    TutorSignForm,
    new_client_id,
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
    form = TutorSignForm(prefix="sign")
    method = None
    if form.validate_on_submit():
        # The PIN check is slow on purpose: done before the write transaction opens (on
        # SQLite that transaction holds the database-wide write lock).
        try:
            method = sequences.confirm_secret(current_user.user, form.secret.data, allow_pin=True)
        except ServiceError as exc:
            form.secret.errors.append(exc.message)
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_sign_sequence)
    if method is not None:
        try:
            sequences.sign_as_tutor(
                get_session(),
                tutor=current_user.user,
                protocol=protocol,
                sequence=sequence,
                method=method,
            )
        except ServiceError as exc:
            form.secret.errors.append(exc.message)
        else:
            flash(_l("Séquence signée."), "success")
            return redirect(url_for(".show", public_id=public_id))
    return _show(sequence, protocol, sign_form=form, status=422)


@bp.route("/<public_id>/contresigner", methods=["GET", "POST"])
@login_required
def countersign(public_id: str):
    """The learner countersigns with their password: on their account or on the tablet."""
    form = CountersignForm(prefix="cs")
    confirmed = False
    if form.validate_on_submit():
        # The learner's password is checked before the write transaction opens, in a short
        # read of its own (on SQLite that transaction holds the database-wide write lock).
        try:
            with database().session() as reader:
                confirmed = sequences.learner_confirms(reader, public_id, form.secret.data)
        except ServiceError as exc:
            form.secret.errors.append(exc.message)
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_countersign_sequence)
    if confirmed:
        try:
            sequences.countersign(
                get_session(),
                actor_id=current_user.id,
                learner=protocol.learner,
                protocol=protocol,
                sequence=sequence,
                confirmed=True,
            )
        except ServiceError as exc:
            form.secret.errors.append(exc.message)
        else:
            flash(_l("Séquence contresignée."), "success")
            return redirect(url_for(".show", public_id=public_id))
    if request.method == "GET":
        return _show(sequence, protocol, countersign_form=form)
    return _show(sequence, protocol, countersign_form=form, status=422)


@bp.route("/<public_id>/corriger", methods=["GET", "POST"])
@login_required
def amend(public_id: str):
    """Correct a sequence: a new version with the reason; the original is kept as it was."""
    sequence, protocol = load_sequence_or_404(public_id, require=policy.can_sign_sequence)
    db = get_session()
    is_situation = sequence.kind == SequenceKind.SITUATION
    form = (SituationAmendForm if is_situation else ReflectionAmendForm)()
    levels = {}
    if not form.is_submitted():
        data = sequences.data_of(db, sequence, client_id=new_client_id())
        form.process(data=_form_values(data, tz()))
        levels = data.levels
    elif not is_situation:
        try:
            levels = form.levels_from(request.form)
        except ValueError:
            form.form_errors.append(_l("Niveau inconnu pour ce référentiel."))
    if form.validate_on_submit() and not form.form_errors:
        try:
            data = form.to_data(tz()) if is_situation else form.to_data(tz(), levels)
            amendment = sequences.amend_sequence(
                db,
                actor_id=current_user.id,
                protocol=protocol,
                original=sequence,
                data=data,
                reason=form.reason.data,
                tz=tz(),
            )
        except ServiceError as exc:
            target = getattr(form, exc.field, None) if exc.field else None
            (target.errors if target is not None else form.form_errors).append(exc.message)
        else:
            flash(_l("Correction enregistrée : la version d'origine est conservée."), "success")
            return redirect(url_for(".show", public_id=amendment.public_id))
    situations, open_ids = tablet_view.situations(db, protocol.id)
    return render(
        "sequences/amend.html",
        sequence=sequence,
        protocol=protocol,
        form=form,
        blocks=tablet_view.scope_by_block(db, protocol.id),
        situations=situations,
        open_ids=open_ids,
        scale=tablet_view.level_scale(db, protocol.referential_id),
        chosen=levels,
        worked=tablet_view.worked_competences(db, protocol.id, form.situation_ids.data)
        if not is_situation
        else set(),
        status=422 if form.is_submitted() else 200,
    )


def _form_values(data, zone) -> dict:
    values = {name: getattr(data, name) for name in sequences.TEXT_FIELDS}
    values.update(
        client_id=data.client_id,
        occurred_at=data.occurred_at.astimezone(zone).replace(tzinfo=None),
        duration_minutes=data.duration_minutes,
        autonomy=data.autonomy.value if data.autonomy else None,
        competence_ids=data.competence_ids,
        situation_ids=data.situation_ids,
    )
    return values


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
