"""The tutor's tablet: "Mes apprenant·es", a learner's page, logging situations and reflections.

Entries are saved once per client id: a double tap, a resubmission or a resend by offline.js
after a dropped connection all land on the same row.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from afest import policy
from afest.core import clock
from afest.core.database import get_session
from afest.core.http import perform, render
from afest.models import Role, SequenceKind, utcnow
from afest.policy.loaders import load_protocol_or_404
from afest.sequences import screens as sequence_screens
from afest.sequences import tablet as tablet_view
from afest.sequences.attachments import accepts_files
from afest.sequences.forms import TabletReflectionForm, TabletSituationForm, reflection_choices

bp = Blueprint("tablet", __name__, url_prefix="/tablette")

SITUATION_MINUTES = 60
REFLECTION_MINUTES = 30


@bp.get("/sw.js")
def service_worker():
    """The tablet's service worker (static/js/sw.js), served here for its scope, /tablette/:
    the tablet opens offline. No login: the browser checks it for updates at any time."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
@login_required
def index():
    """Mes apprenant·es: next planned sequence, last sequence and what is owed, per learner."""
    if not current_user.has(Role.TUTOR):
        abort(403)
    lines = tablet_view.tutor_learners(get_session(), current_user.id, today=clock.today())
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


def _save(form, public_id: str, kind: SequenceKind):
    """Log a form that passed its own checks, signed when she typed her PIN for it, or answer
    None; a wrong PIN or a rule violation puts its message beside its field."""
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence, parents=False)
    if (operation := form.operation(get_session(), current_user.id)) is None:
        return None
    zone = clock.zone()
    arguments = {"protocol": protocol, "kind": kind, "data": form.to_data(zone), "tz": zone}
    if not (saved := perform(form, operation, **arguments)):
        return None
    return redirect(sequence_screens.after_save(protocol, saved[0], signed=form.signing_now()))


@bp.route("/protocoles/<public_id>/situation", methods=["GET", "POST"])
@login_required
@accepts_files
def situation(public_id: str):
    """Log a work situation: competences as large toggles grouped by block, defaults to now."""
    form = TabletSituationForm()
    form.prepare(clock.zone(), now=utcnow(), default_minutes=SITUATION_MINUTES)
    if form.validate_on_submit() and (done := _save(form, public_id, SequenceKind.SITUATION)):
        return done
    # the form, blank or back with its messages, shows the learner, structure and référentiel
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    page = sequence_screens.situation_page(get_session(), protocol, form)
    return render("tablet/situation.html", status=422 if form.is_submitted() else 200, **page)


@bp.route("/protocoles/<public_id>/reflexion", methods=["GET", "POST"])
@login_required
@accepts_files
def reflection(public_id: str):
    """Log a reflexive sequence: the unanalysed situations preselected, a level per competence."""
    form = TabletReflectionForm()
    form.prepare(clock.zone(), now=utcnow(), default_minutes=REFLECTION_MINUTES)
    if form.validate_on_submit() and (done := _save(form, public_id, SequenceKind.REFLECTION)):
        return done
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    return _reflection_page(protocol, form)


def _reflection_page(protocol, form):
    """The reflection form, blank with the unanalysed situations chosen, or back with its
    messages."""
    page = sequence_screens.reflection_page(get_session(), protocol, form)
    return render("tablet/reflection.html", status=422 if form.is_submitted() else 200, **page)


@bp.get("/protocoles/<public_id>/reflexion/niveaux")
@login_required
def reflection_levels(public_id: str):
    """htmx fragment: the level groups, the competences of the situations chosen first."""
    protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
    situation_ids, chosen = reflection_choices(request.args)
    return render(
        "tablet/_levels.html",
        refresh_url=url_for(".reflection_levels", public_id=public_id),
        **tablet_view.level_groups(
            get_session(), protocol, chosen=chosen, situation_ids=situation_ids
        ),
    )
