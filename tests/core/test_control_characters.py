"""No control character reaches the database from a form: every text field a form binds loses
them (multi-line text keeps tab and line feed, a one-line value shows its line breaks as
spaces), a secret holding one is refused beside its field, never altered; on both engines
(PostgreSQL refuses NUL in text, SQLite would keep it for an export to break on)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import select
from werkzeug.datastructures import MultiDict
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SearchField,
    StringField,
    TextAreaField,
)

from afest.core.controls import CONTROLS
from afest.core.forms import Form, LocalDateTimeField
from afest.dashboards.forms import FilterForm
from afest.models import Evaluation, Level, Organisation, Protocol, Sequence, User
from tests.protocols.test_lifecycle import _draft_form
from tests.sequences.test_tablet import demo_protocol, post_situation, situation_form

HOSTILE = "\x00\x07\x1b\u0085"  # NUL, bell, escape, next line (C1)
MANAGER = "direction@azur-aide.demo"
TUTOR = "tuteur@azur-aide.demo"
ADMIN = "admin@afest.demo"


class _EveryKind(Form):
    class Meta:
        csrf = False

    line = StringField()
    text = TextAreaField()
    email = EmailField()
    search = SearchField()
    hidden = HiddenField()
    secret = PasswordField()
    at = LocalDateTimeField()


def test_every_kind_of_text_field_loses_its_control_characters(app):
    posted = {
        "line": f"Aide{HOSTILE}\r\nau\tlever\x7f",
        "text": f"Ligne 1{HOSTILE}\r\n\tLigne 2\rLigne 3\x9f",
        "email": f"lea{HOSTILE}@example.org",
        "search": f"Mor{HOSTILE}el",
        "hidden": "tab-1",
        "secret": "afest-demo-2026",
        "at-date": f"03/12{HOSTILE}/2026",
        "at-time": f"14:30{HOSTILE}\x1f",
    }
    with app.test_request_context("/", method="POST", data=posted):
        form = _EveryKind()
        assert form.validate(), form.errors
        assert form.line.data == "Aide au lever"
        assert form.text.data == "Ligne 1\n\tLigne 2\nLigne 3"
        assert form.email.data == "lea@example.org"
        assert form.search.data == "Morel"
        assert form.hidden.data == "tab-1"
        assert form.at.data == datetime(2026, 12, 3, 14, 30)


@pytest.mark.parametrize("value", ["0\x00", f"tab{HOSTILE}-1"])
def test_a_hidden_value_with_a_control_character_is_refused_not_altered(app, value):
    """A hidden field holds what the page sent (an id, a token, a choice): cleaned, "0\\x00"
    would become a valid "0"."""
    with app.test_request_context("/", method="POST", data={"hidden": value}):
        form = _EveryKind()
        assert not form.validate()
        assert form.hidden.data == value
        assert "Valeur illisible" in " ".join(map(str, form.hidden.errors))


@pytest.mark.parametrize("secret", ["1234\x00", "mot\tde passe", f"a{HOSTILE}b"])
def test_a_secret_with_a_control_character_is_refused_beside_it_not_altered(app, secret):
    with app.test_request_context("/", method="POST", data={"secret": secret}):
        form = _EveryKind()
        assert not form.validate()
        assert form.secret.data == secret  # never altered: it would not be the one typed
        assert "caractère invisible" in " ".join(map(str, form.secret.errors))


def test_a_query_string_form_loses_them_too(app):
    """The dashboards' filters are a plain WTForms form (no CSRF token in a GET address)."""
    with app.test_request_context("/"):
        form = FilterForm(MultiDict({"du": f"2026-0{HOSTILE}3", "au": "2026\t-12"}))
        assert (form.du.data, form.au.data) == ("2026-03", "2026 -12")


def _clean(*values: str | None) -> bool:
    return all(not CONTROLS.search(v or "") for v in values)


def test_hostile_characters_posted_to_several_forms_never_reach_the_database(
    session, login_as, make_user
):
    from afest.models import Role

    # a protocol draft, by the manager
    azur = session.exec(select(Organisation).where(Organisation.name == "Azur Aide à Domicile"))
    newcomer = make_user(
        [(Role.LEARNER, azur.one().id)], name="Nouvelle Recrue", email="recrue@azur-aide.demo"
    )
    draft = _draft_form(
        session,
        newcomer,
        title=f"AFEST{HOSTILE}\td'intégration",
        objective=f"Devenir{HOSTILE} autonome\r\nvite",
        work_situations=f"Entretien{HOSTILE} du logement",
    )
    assert login_as(MANAGER).post("/protocoles/nouveau", data=draft).status_code == 302
    protocol = session.exec(select(Protocol).where(Protocol.learner_id == newcomer.id)).one()
    assert protocol.title == "AFEST d'intégration"
    assert protocol.objective == "Devenir autonome\nvite"
    assert _clean(protocol.work_situations, protocol.activity_analysis)

    # a situation on the tutor's tablet
    on_tablet = demo_protocol(session)
    form = situation_form(
        session,
        on_tablet,
        client_id="hostile-1",
        place=f"Chambre{HOSTILE} 12",
        intent=f"Aide{HOSTILE} au lever",
        observations=f"Gestes sûrs{HOSTILE}\r\nà revoir",
    )
    assert post_situation(login_as(TUTOR), on_tablet, form).status_code == 302
    sequence = session.exec(select(Sequence).where(Sequence.client_id == "hostile-1")).one()
    assert (sequence.place, sequence.intent) == ("Chambre 12", "Aide au lever")
    assert sequence.observations == "Gestes sûrs\nà revoir"

    # a member invited to an OPCO, by the administrator
    opco = session.exec(select(Organisation).where(Organisation.code == "UNIFORMATION")).one()
    invited = {"full_name": f"Léa{HOSTILE}\tMorel", "email": f"lea.morel{HOSTILE}@example.org"}
    response = login_as(ADMIN).post(f"/admin/opco/{opco.public_id}/membres", data=invited)
    assert response.status_code == 302
    member = session.exec(select(User).where(User.email == "lea.morel@example.org")).one()
    assert member.full_name == "Léa Morel"

    # an evaluation, by the tutor
    levels = session.exec(
        select(Level).where(Level.referential_id == on_tablet.referential_id).order_by(Level.rank)
    ).all()
    evaluation = {
        "kind": "intermediate",
        "evaluated_on": date.today().isoformat(),
        "client_id": "hostile-evaluation",
        "summary": f"Bien{HOSTILE} vu\r\nà suivre",
        **{f"level-{c.competence_id}": str(levels[1].id) for c in on_tablet.competences},
    }
    url = f"/protocoles/{on_tablet.public_id}/evaluations/nouvelle"
    assert login_as(TUTOR).post(url, data=evaluation).status_code == 302
    saved = session.exec(
        select(Evaluation).where(Evaluation.client_id == "hostile-evaluation")
    ).one()
    assert saved.summary == "Bien vu\nà suivre"


def test_a_no_break_space_of_french_text_is_kept():
    from afest.core.forms import clean_text, strip

    assert strip(" Autres agendas\u00a0» ") == "Autres agendas\u00a0»"
    assert clean_text("Prix\u202f:\u00a012\x00 €\n") == "Prix\u202f:\u00a012 €"
