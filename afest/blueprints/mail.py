"""The admin's Courriels page: the outbox, each message readable, re-sent or marked sent,
and a test message to check the SMTP settings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import perform, render
from afest.mail import operations, queries
from afest.mail.forms import STATE_LABELS, OutboxFilterForm
from afest.models import User
from afest.policy.loaders import load_mail_or_404

bp = Blueprint("mail", __name__, url_prefix="/admin/courriels")
# The HTML body of a message, shown in a sandboxed frame of the message's page: no script,
# no request anywhere, inline styles only (an e-mail's own), framed by afest's pages only.
BODY_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


@bp.get("", endpoint="index")
@login_required
def index():
    """The outbox, newest first, fifty a page, filtered by state."""
    if not policy.can_view_outbox(current_user):
        abort(403)
    form = OutboxFilterForm(request.args)
    outbox = queries.outbox_page(get_session(), state=form.chosen_state(), page=form.page.data)
    return render(
        "mail/index.html",
        form=form,
        outbox=outbox,
        STATE_LABELS=STATE_LABELS,
        smtp_host=current_app.config["SMTP_HOST"],
        test_form=EmptyForm(),
    )


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """One message: who, when, its state and attempts, its text and HTML bodies."""
    message = load_mail_or_404(public_id)
    return render(
        "mail/show.html",
        message=message,
        state=queries.shown_state(message),
        actions=queries.actions(message),
        text=queries.text_with_links(message.body_text),
        STATE_LABELS=STATE_LABELS,
        action_form=EmptyForm(),
    )


@bp.get("/<public_id>/html")
@login_required
def html_body(public_id: str):
    """The HTML body alone, for the sandboxed frame of the message's page."""
    message = load_mail_or_404(public_id)
    response = make_response(message.body_html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = BODY_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _act(public_id: str, operation, done: str):
    message = load_mail_or_404(public_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, operation, message=message):
        flash(done, "success")
    else:
        for error in form.form_errors:
            flash(error, "error")
    return redirect(url_for("mail.show", public_id=public_id))


@bp.post("/<public_id>/renvoyer")
@login_required
def resend(public_id: str):
    """Send a failed, kept or unconfirmed message again."""
    return _act(public_id, operations.resend, _("Le courriel sera renvoyé dans un instant."))


@bp.post("/<public_id>/envoye")
@login_required
def mark_sent(public_id: str):
    """Mark a failed or unconfirmed message sent: it will not be tried again."""
    return _act(public_id, operations.mark_sent, _("Courriel marqué envoyé."))


@bp.post("/essai")
@login_required
def send_test():
    """Send a test message to the admin herself (checks the SMTP settings)."""
    if not policy.can_view_outbox(current_user):
        abort(403)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, operations.send_test_message, to=get_session().get(User, current_user.id)):
        flash(_("Courriel d'essai envoyé à %(email)s.", email=current_user.user.email), "success")
    return redirect(url_for("mail.index"))
