"""Save and sign in one tap on the tablet, then straight on to the reflexive sequence; the day
and the time typed as French people write them; the competences of the moment first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import select
from werkzeug.datastructures import MultiDict
from wtforms import Form as BaseForm

from afest.assessments.levels import targeted_competence_ids
from afest.core.forms import LocalDateTimeField, parse_day, parse_time
from afest.models import Sequence as SequenceRow
from afest.models import Signature, SignedKind, SignerRole, User, utcnow
from afest.sequences.tablet import FOLD_FROM, focus_of, scope_by_block
from tests.sequences.test_tablet import (
    TUTOR,
    TZ,
    demo_protocol,
    n_sequences,
    post_situation,
    situation_form,
)

PIN = "2468"  # the demo tutors' PIN


def split(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(TZ)
    return {
        "occurred_at-date": local.strftime("%d/%m/%Y"),
        "occurred_at-time": local.strftime("%H:%M"),
    }


def tablet_situation(session, protocol, client_id, **over):
    form = situation_form(session, protocol, client_id=client_id)
    del form["occurred_at"]
    return {**form, **split(utcnow() - timedelta(hours=2)), **over}


def signatures_of(session, sequence) -> list[Signature]:
    return list(
        session.exec(
            select(Signature).where(
                Signature.subject_kind == SignedKind.SEQUENCE, Signature.subject_id == sequence.id
            )
        )
    )


def entry(session, client_id) -> SequenceRow:
    return session.exec(select(SequenceRow).where(SequenceRow.client_id == client_id)).one()


def test_a_situation_saved_and_signed_opens_its_reflexive_sequence(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    form = tablet_situation(session, protocol, "sn-1", secret=PIN, sign="1")
    response = post_situation(client, protocol, form)
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == f"/tablette/protocoles/{protocol.public_id}/reflexion?saved=situation"
    )
    situation = entry(session, "sn-1")
    [signature] = signatures_of(session, situation)
    assert (signature.signer_role, signature.method) == (SignerRole.TUTOR, "pin")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mise en situation enregistrée et signée" in page
    assert f'value="{situation.id}" checked' in page  # the situation to analyse is chosen

    # the same entry sent again (a double tap, a resend): one row, one signature
    assert post_situation(client, protocol, form).status_code == 302
    assert len(signatures_of(session, entry(session, "sn-1"))) == 1


def test_a_reflection_saved_and_signed_goes_back_to_the_learner(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    post_situation(client, protocol, tablet_situation(session, protocol, "sn-2"))
    situation = entry(session, "sn-2")
    response = client.post(
        f"/tablette/protocoles/{protocol.public_id}/reflexion",
        data={
            "client_id": "rn-2",
            **split(utcnow() - timedelta(minutes=30)),
            "duration_minutes": "30",
            "situation_ids": [str(situation.id)],
            "learnt": "Prévenir avant chaque geste",
            "secret": PIN,
            "sign": "1",
        },
    )
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == f"/tablette/protocoles/{protocol.public_id}?saved=reflection"
    )
    assert len(signatures_of(session, entry(session, "rn-2"))) == 1
    assert "Séquence réflexive enregistrée et signée" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("secret", "message"),
    [("", "Tapez votre code PIN pour signer"), ("0000", "Code PIN ou mot de passe incorrect")],
)
def test_signing_without_the_right_pin_saves_nothing(session, login_as, secret, message):
    protocol = demo_protocol(session)
    before = n_sequences(session, protocol)
    form = tablet_situation(session, protocol, "sn-bad", secret=secret, sign="1")
    response = post_situation(login_as(TUTOR), protocol, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="secret-error"' in page and message in page
    assert 'value="Chambre 12"' in page or "Chambre 12" in page  # what she typed stays
    assert n_sequences(session, protocol) == before


def test_saving_without_signing_is_as_before(session, login_as):
    protocol = demo_protocol(session)
    form = tablet_situation(session, protocol, "sn-3", secret=PIN)  # typed, not "sign" tapped
    response = post_situation(login_as(TUTOR), protocol, form)
    situation = entry(session, "sn-3")
    assert response.headers["Location"] == f"/sequences/{situation.public_id}?saved=1"
    assert signatures_of(session, situation) == []


def test_the_day_and_time_are_read_as_typed_and_kept_beside_a_message(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    yesterday = (utcnow() - timedelta(days=1)).astimezone(TZ).date()
    typed = {"occurred_at-date": yesterday.strftime("%d.%m.%Y"), "occurred_at-time": "14h30"}
    response = post_situation(
        client, protocol, tablet_situation(session, protocol, "sn-4", **typed)
    )
    assert response.status_code == 302
    saved = entry(session, "sn-4").occurred_at.astimezone(TZ)
    assert (saved.date(), saved.time()) == (yesterday, time(14, 30))

    bad = {"occurred_at-date": "31/02/2026", "occurred_at-time": "14:30"}
    refused = post_situation(client, protocol, tablet_situation(session, protocol, "sn-5", **bad))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Date : jour/mois/année" in page and 'value="31/02/2026"' in page
    late = {"occurred_at-time": "25:00"}
    refused = post_situation(client, protocol, tablet_situation(session, protocol, "sn-6", **late))
    assert "Heure : heures et minutes sur 24 heures" in refused.get_data(as_text=True)
    empty = {"occurred_at-date": " ", "occurred_at-time": ""}
    refused = post_situation(client, protocol, tablet_situation(session, protocol, "sn-7", **empty))
    assert "Indiquez la date et l'heure." in refused.get_data(as_text=True)


class _When(BaseForm):
    occurred_at = LocalDateTimeField()


def test_an_entry_queued_by_an_earlier_page_is_still_read():
    form = _When(MultiDict({"occurred_at": "2026-12-03T14:30"}))
    assert form.occurred_at.data == datetime(2026, 12, 3, 14, 30)
    form = _When(MultiDict({"occurred_at-date": "3/12/2026", "occurred_at-time": "9"}))
    assert form.occurred_at.data == datetime(2026, 12, 3, 9, 0)
    assert (form.occurred_at.day_value(), form.occurred_at.time_value()) == ("03/12/2026", "09:00")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("03/12/2026", date(2026, 12, 3)),
        ("3/12/2026", date(2026, 12, 3)),
        ("03.12.2026", date(2026, 12, 3)),
        ("03-12-2026", date(2026, 12, 3)),
        ("03122026", date(2026, 12, 3)),
        (" 1 / 2 / 2027 ", date(2027, 2, 1)),
    ],
)
def test_days_as_they_are_written(text, day):
    assert parse_day(text) == day


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("14:30", time(14, 30)),
        ("14h30", time(14, 30)),
        ("14h", time(14)),
        ("9", time(9)),
        ("1430", time(14, 30)),
        ("14.30", time(14, 30)),
        ("00:00", time(0)),
    ],
)
def test_times_as_they_are_written(text, at):
    assert parse_time(text) == at


@pytest.mark.parametrize(
    "text", ["12/03", "2026-12-03", "31/02/2026", "3/13/2026", "", "abc", "03/12/26"]
)
def test_other_days_are_refused(text):
    with pytest.raises(ValueError):
        parse_day(text)


@pytest.mark.parametrize("text", ["25:00", "14:60", "2 pm", "14:3", "", "14h300"])
def test_other_times_are_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_the_situation_form_shows_the_current_focus_first(session, login_as):
    protocol = demo_protocol(session)
    client = login_as(TUTOR)
    scope = sorted(targeted_competence_ids(session, protocol.id))
    assert len(scope) > FOLD_FROM  # the demo protocol targets enough to fold some
    form = tablet_situation(
        session, protocol, "focus-1", competence_ids=[str(c) for c in scope[:2]]
    )
    assert post_situation(client, protocol, form).status_code == 302
    url = f"/tablette/protocoles/{protocol.public_id}/situation"
    page = client.get(url).get_data(as_text=True)
    focus, folded = page.split("data-focus", 1)[1].split('<details class="more">', 1)
    recent = focus_of(session, protocol.id, scope_by_block(session, protocol.id))
    assert set(scope[:2]) <= recent < set(scope)
    for competence in scope:
        shown_first = f'value="{competence}"' in focus
        assert shown_first == (competence in recent)
        assert shown_first != (f'value="{competence}"' in folded)
    assert f"Autres compétences du protocole ({len(scope) - len(recent)})" in folded


def test_a_protocol_of_few_competences_folds_nothing(session, make_protocol):
    protocol, _ = make_protocol()
    blocks = scope_by_block(session, protocol.id)
    assert 0 < sum(len(b.competences) for b in blocks) <= FOLD_FROM
    assert focus_of(session, protocol.id, blocks) == set()


def test_the_tablet_scripts_messages_follow_the_interface_language(session, login_as):
    tutor = session.exec(select(User).where(User.email == TUTOR)).one()
    page = login_as(TUTOR).get("/tablette/").get_data(as_text=True)
    assert "Tout est enregistr" in page and "data-messages=" in page  # JSON: é as \\u00e9
    tutor.locale = "en"
    session.commit()
    page = login_as(TUTOR).get("/tablette/").get_data(as_text=True)
    assert "Everything is saved on the server." in page
    assert "Tout est enregistr" not in page
