"""Rappels et agenda: how often a person is reminded of what waits for her, and a tutor's or
a learner's private calendar address (the feed itself answers without login: its secret is
the key)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import REFUSED, flash_refusal, perform, render
from afest.models import utcnow
from afest.todo import calendar, feeds, preferences, screens
from afest.todo.forms import ReminderForm

bp = Blueprint("todo", __name__)
SHOWN_ONCE = "todo.calendar_secret"  # a new address's secret, until the page shows it


@bp.get("/agenda/<secret>.ics")
def feed(secret: str):
    """A person's calendar: one same 404 for an unknown, revoked or malformed secret."""
    db = get_session()
    owner = feeds.owner_of(db, secret=secret)
    if owner is None:  # a calendar app reads it, not a person: no page, no cookie
        return Response("Not Found\n", 404, mimetype="text/plain")
    response = Response(calendar.feed_of(db, owner, now=utcnow()), mimetype="text/calendar")
    response.headers["Cache-Control"] = f"private, max-age={calendar.MAX_AGE}"
    return response


@bp.route("/compte/rappels", methods=["GET", "POST"])
@login_required
def reminders():
    """Choose how often to be reminded; see, make, renew or revoke one's calendar address."""
    form = ReminderForm()
    if form.validate_on_submit() and perform(
        form, preferences.set_frequency, frequency=form.frequency.data
    ):
        flash(_("Votre choix de rappels est enregistré."), "success")
        return redirect(url_for(".reminders"))
    secret = session.pop(SHOWN_ONCE, None) if request.method == "GET" else None
    page = screens.reminders_page(
        get_session(), current_user, form=form if form.is_submitted() else None, secret=secret
    )
    return render("todo/reminders.html", status=422 if form.errors else 200, **page)


def _feed_action(operation, done: str):
    """Run a calendar address's operation for the signed-in tutor or learner, then go back
    to the page (which shows a new address once)."""
    if not policy.can_have_calendar(current_user):
        abort(403)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    secret = perform(form, operation)
    if secret is not REFUSED:
        if isinstance(secret, str):
            session[SHOWN_ONCE] = secret
        flash(done, "success")
    flash_refusal(form)
    return redirect(url_for(".reminders", _anchor="agenda"))


@bp.post("/compte/agenda")
@login_required
def create_feed():
    """Make one's calendar address."""
    return _feed_action(feeds.create, _("Votre adresse d'agenda est prête."))


@bp.post("/compte/agenda/renouveler")
@login_required
def renew_feed():
    """Replace one's calendar address: the previous one stops working at once."""
    return _feed_action(feeds.renew, _("Nouvelle adresse prête : l'ancienne ne fonctionne plus."))


@bp.post("/compte/agenda/revoquer")
@login_required
def revoke_feed():
    """End one's calendar address."""
    return _feed_action(feeds.revoke, _("Adresse d'agenda révoquée : elle ne fonctionne plus."))
