"""The tutor's tablet: "Mes apprenant·es", a learner's page, logging situations and reflections.

Entries are saved once per client id: a double tap, a resubmission or a resend by offline.js
after a dropped connection all land on the same row.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import get_session
from afest.core.errors import ServiceError
from afest.core.forms import record_id
from afest.core.http import render
from afest.models import Role, SequenceKind, utcnow
from afest.policy.loaders import load_protocol_or_404, load_protocol_to_log
from afest.sequences import operations as sequences
from afest.sequences import tablet as tablet_view
from afest.sequences.forms import ReflectionForm, SituationForm

bp = Blueprint("tablet", __name__, url_prefix="/tablette")

SITUATION_MINUTES = 60
REFLECTION_MINUTES = 30


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(tz()).date()


@bp.get("/")
@login_required
def index():
    """Mes apprenant·es: next planned sequence, last sequence and what is owed, per learner."""
    if not current_user.has(Role.TUTOR):
        abort(403)
    lines = tablet_view.tutor_learners(get_session(), current_user.id, today=today())
    return render("tablet/index.html", partial="tablet/_learners.html", lines=lines)


@bp.get("/protocoles/<public_id>")
@login_required
def learner(public_id: str):
    """One learner on the tablet: buttons to log, what is owed, current levels, recent entries."""
    protocol = load_protocol_or_404(public_id, require=policy.can_use_tablet)
    db = get_session()
    return render(
        "tablet/learner.html",
        protocol=protocol,
        can_log=policy.can_log_sequence(current_user, protocol),
        blocks=tablet_view.scope_by_block(db, protocol.id),
        levels=tablet_view.current_levels(db, protocol.id),
        recent=tablet_view.recent_sequences(db, protocol.id),
        open_ids=tablet_view.situations(db, protocol.id)[1],
    )


def _save(form, valid: bool, public_id: str, kind: SequenceKind, data_of):
    """Log a form that passed its own checks, or answer None; a rule violation puts its
    message beside its field. The form is checked before the protocol is read: those checks
    need no database, and on SQLite everything after that first read holds the write lock.
    The protocol is read with what the save checks (designations, targeted competences) in
    one statement."""
    if not valid:
        return None
    protocol, scope = load_protocol_to_log(public_id)
    try:
        saved = sequences.save_entry(
            get_session(),
            actor_id=current_user.id,
            protocol=protocol,
            kind=kind,
            data=data_of(),
            tz=tz(),
            scope=scope,
        )
    except ServiceError as exc:
        target = getattr(form, exc.field, None) if exc.field else None
        (target.errors if target is not None else form.form_errors).append(exc.message)
        return None
    return redirect(url_for("sequences.show", public_id=saved.public_id, saved=1))


@bp.route("/protocoles/<public_id>/situation", methods=["GET", "POST"])
@login_required
def situation(public_id: str):
    """Log a work situation: competences as large toggles grouped by block, defaults to now."""
    form = SituationForm()
    form.prepare(tz(), now=utcnow(), default_minutes=SITUATION_MINUTES)
    if form.is_submitted():
        valid = form.validate_on_submit()
        done = _save(form, valid, public_id, SequenceKind.SITUATION, lambda: form.to_data(tz()))
        if done is not None:
            return done
    # the form, blank or back with its messages, shows the learner, structure and référentiel
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    blocks = tablet_view.scope_by_block(get_session(), protocol.id)
    return render(
        "tablet/situation.html",
        protocol=protocol,
        form=form,
        blocks=blocks,
        status=422 if form.is_submitted() else 200,
    )


@bp.route("/protocoles/<public_id>/reflexion", methods=["GET", "POST"])
@login_required
def reflection(public_id: str):
    """Log a reflexive sequence: the unanalysed situations preselected, a level per competence."""
    form = ReflectionForm()
    form.prepare(tz(), now=utcnow(), default_minutes=REFLECTION_MINUTES)
    levels: dict[int, int] = {}
    if form.is_submitted():
        valid = form.validate_on_submit()
        try:
            levels = form.levels_from(request.form)
        except ValueError:
            valid = False
            form.form_errors.append(_l("Niveau inconnu pour ce référentiel."))
        done = _save(
            form,
            valid,
            public_id,
            SequenceKind.REFLECTION,
            lambda: form.to_data(tz(), levels),
        )
        if done is not None:
            return done
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    db = get_session()
    situations, open_ids = tablet_view.situations(db, protocol.id)  # only to render the form
    if not form.is_submitted():
        form.situation_ids.data = sorted(open_ids)
    return render(
        "tablet/reflection.html",
        protocol=protocol,
        form=form,
        situations=situations,
        open_ids=open_ids,
        blocks=tablet_view.scope_by_block(db, protocol.id),
        scale=tablet_view.level_scale(db, protocol.referential_id),
        chosen=levels,
        worked=tablet_view.worked_competences(db, protocol.id, form.situation_ids.data),
        status=422 if form.is_submitted() else 200,
    )


@bp.get("/protocoles/<public_id>/reflexion/niveaux")
@login_required
def reflection_levels(public_id: str):
    """htmx fragment: the level groups, the competences of the situations chosen first."""
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    db = get_session()
    chosen_ids = []
    for value in request.args.getlist("situation_ids"):
        with suppress(ValueError):  # garbage names no situation
            chosen_ids.append(record_id(value))
    try:
        chosen = ReflectionForm.levels_from(request.args)
    except ValueError:
        chosen = {}
    return render(
        "tablet/_levels.html",
        blocks=tablet_view.scope_by_block(db, protocol.id),
        scale=tablet_view.level_scale(db, protocol.referential_id),
        chosen=chosen,
        worked=tablet_view.worked_competences(db, protocol.id, chosen_ids),
        refresh_url=url_for(".reflection_levels", public_id=public_id),
    )
