"""The cost forms: amounts typed in French, a message beside the field for each bad value
(and nothing saved), periods of one person that never overlap, every write audited."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from afest.costs.screens import end_prefix
from afest.models import (
    AuditEntry,
    Evaluation,
    EvaluationTime,
    HourlyCost,
    Organisation,
    OtherCost,
    Protocol,
    User,
)

MANAGER = "direction@azur-aide.demo"
AZUR = "Azur Aide à Domicile"


def _azur(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def _user(session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _error_of(page: str, field_id: str) -> str:
    """The message shown beside a field (its `<id>-error` paragraph), or ''."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def _add(client, structure, **data):
    return client.post(f"/structures/{structure.public_id}/couts", data=data)


def test_a_person_s_cost_typed_in_french_is_kept_in_cents_and_audited(session, login_as):
    structure = _azur(session)
    person = _user(session, "apprenant2@azur-aide.demo")
    response = _add(
        login_as(MANAGER),
        structure,
        who=person.public_id,
        cents_per_hour="18,50",
        valid_from="2020-01-01",
        valid_to="2020-12-31",
    )
    assert response.status_code == 302
    cost = session.exec(select(HourlyCost).where(HourlyCost.user_id == person.id)).one()
    assert (cost.cents_per_hour, cost.valid_from, cost.valid_to) == (
        1850,
        date(2020, 1, 1),
        date(2020, 12, 31),
    )
    entry = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "hourlycost.add", AuditEntry.subject_id == cost.id
        )
    ).one()
    assert entry.structure_id == structure.id and entry.after["cents_per_hour"] == 1850


@pytest.mark.parametrize(
    ("typed", "cents"), [("18.5", 1850), ("1 234,56", 123456), ("19 €", 1900), ("0,75", 75)]
)
def test_amounts_as_people_type_them(session, login_as, typed, cents):
    structure = _azur(session)
    response = _add(
        login_as(MANAGER),
        structure,
        who="default:tutor",
        cents_per_hour=typed,
        valid_from="2005-01-01",
        valid_to="2005-01-31",
    )
    if cents > 50_000:
        assert response.status_code == 422
        return
    assert response.status_code == 302
    saved = session.exec(
        select(HourlyCost.cents_per_hour).where(
            HourlyCost.structure_id == structure.id, HourlyCost.valid_from == date(2005, 1, 1)
        )
    ).one()
    assert saved == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("18,505", "Un montant en euros, par exemple 18,50."),
        ("abc", "Un montant en euros, par exemple 18,50."),
        ("-3", "Un montant en euros, par exemple 18,50."),
        ("0", "Un coût horaire de 0,01 € à 500,00 €."),
        ("600", "Un coût horaire de 0,01 € à 500,00 €."),
        ("", "Indiquez le coût d'une heure, par exemple 18,50."),
    ],
)
def test_a_bad_amount_is_answered_beside_its_field_and_nothing_is_saved(
    session, login_as, typed, message
):
    structure = _azur(session)
    before = _count(session, HourlyCost)
    response = _add(
        login_as(MANAGER),
        structure,
        who="default:tutor",
        cents_per_hour=typed,
        valid_from="2005-01-01",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert html.unescape(_error_of(page, "cents_per_hour")) == message
    assert f'value="{typed}"' in page  # what was typed comes back
    assert _count(session, HourlyCost) == before


def test_an_overlapping_period_is_refused_beside_its_first_day(session, login_as):
    structure = _azur(session)
    client = login_as(MANAGER)
    year = {"cents_per_hour": "20,00", "valid_from": "2004-01-01", "valid_to": "2004-12-31"}
    assert _add(client, structure, who="default:tutor", **year).status_code == 302
    before = _count(session, HourlyCost)
    response = _add(
        client, structure, who="default:tutor", cents_per_hour="17,00", valid_from="2004-06-01"
    )
    assert response.status_code == 422
    message = html.unescape(_error_of(response.get_data(as_text=True), "valid_from"))
    assert "chevauche" in message and "20,00" in message and "31/12/2004" in message
    assert _count(session, HourlyCost) == before
    # the same period for the learners' default is another default: it is kept
    assert _add(client, structure, who="default:learner", **year).status_code == 302


def test_an_end_before_the_start_and_a_stranger_are_refused(session, login_as, make_user):
    structure = _azur(session)
    client = login_as(MANAGER)
    response = _add(
        client,
        structure,
        who="default:tutor",
        cents_per_hour="20",
        valid_from="2010-05-01",
        valid_to="2010-04-01",
    )
    assert response.status_code == 422
    assert "précéder" in _error_of(response.get_data(as_text=True), "valid_to")
    stranger = make_user([])
    response = _add(
        client, structure, who=stranger.public_id, cents_per_hour="20", valid_from="2010-05-01"
    )
    assert response.status_code == 422
    assert _error_of(response.get_data(as_text=True), "who")


def test_ending_a_cost_and_its_checks(session, login_as):
    structure = _azur(session)
    person = _user(session, "apprenant3@azur-aide.demo")
    client = login_as(MANAGER)
    for start, end in (("2020-01-01", "2020-06-30"), ("2020-07-01", "")):
        data = {"who": person.public_id, "cents_per_hour": "16", "valid_from": start}
        if end:
            data["valid_to"] = end
        assert _add(client, structure, **data).status_code == 302
    first, second = session.exec(
        select(HourlyCost).where(HourlyCost.user_id == person.id).order_by(HourlyCost.valid_from)
    ).all()
    url = f"/structures/{structure.public_id}/couts/{{}}/fin"
    field = end_prefix(second.public_id) + "valid_to"
    response = client.post(url.format(second.public_id), data={field: "2020-06-01"})
    assert response.status_code == 422
    assert "précéder" in _error_of(response.get_data(as_text=True), field)
    # ending the first one later would reach into the second one's period
    field = end_prefix(first.public_id) + "valid_to"
    response = client.post(url.format(first.public_id), data={field: "2020-08-01"})
    assert response.status_code == 422
    assert "chevauche" in _error_of(response.get_data(as_text=True), field)
    field = end_prefix(second.public_id) + "valid_to"
    assert client.post(url.format(second.public_id), data={field: "2020-12-31"}).status_code == 302
    session.refresh(second)
    assert second.valid_to == date(2020, 12, 31)
    assert (
        client.post(
            f"/structures/{structure.public_id}/couts/{first.public_id}/retrait"
        ).status_code
        == 302
    )
    assert session.exec(select(HourlyCost.id).where(HourlyCost.id == first.id)).first() is None
    removed = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "hourlycost.remove", AuditEntry.subject_id == first.id
        )
    ).one()
    assert removed.before["valid_to"] == "2020-06-30" and removed.after is None


def _demo_protocol(session) -> Protocol:
    learner = _user(session, "apprenant@azur-aide.demo")
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def test_other_costs_added_with_their_messages_and_removed(session, login_as):
    protocol = _demo_protocol(session)
    client = login_as(MANAGER)
    url = f"/protocoles/{protocol.public_id}/depenses"
    before = _count(session, OtherCost)
    bad = {
        "cout-kind": "tutor_training",
        "cout-label": "",
        "cout-amount_cents": "12,3,4",
        "cout-spent_on": (date.today() + timedelta(days=3)).isoformat(),
    }
    response = client.post(url, data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error_of(page, "cout-label") == "Indiquez ce que couvre ce coût."
    assert _error_of(page, "cout-amount_cents") == "Un montant en euros, par exemple 18,50."
    assert "pas encore arrivée" in _error_of(page, "cout-spent_on")
    assert _count(session, OtherCost) == before
    good = {
        "cout-kind": "external_support",
        "cout-label": "Accompagnement d'un consultant AFEST",
        "cout-amount_cents": "1 234,5",
        "cout-spent_on": protocol.planned_start.isoformat(),
        "cout-voucher": "F-2026-12",
    }
    assert client.post(url, data=good).status_code == 302
    cost = session.exec(
        select(OtherCost).where(OtherCost.label == "Accompagnement d'un consultant AFEST")
    ).one()
    assert (cost.amount_cents, cost.voucher, cost.protocol_id) == (123450, "F-2026-12", protocol.id)
    added = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "othercost.add", AuditEntry.subject_id == cost.id
        )
    ).one()
    assert added.protocol_id == protocol.id
    page = client.get(url).get_data(as_text=True)
    assert "1\u202f234,50\u00a0€" in page or "1 234,50 €" in page.replace("\u202f", " ").replace(
        "\u00a0", " "
    )
    assert client.post(f"{url}/{cost.public_id}/retrait").status_code == 302
    assert session.exec(select(OtherCost.id).where(OtherCost.id == cost.id)).first() is None


def test_the_tutor_s_time_on_an_evaluation_is_declared_then_declared_again(session, login_as):
    protocol = _demo_protocol(session)
    evaluation = session.exec(select(Evaluation).where(Evaluation.protocol_id == protocol.id)).one()
    client = login_as(MANAGER)
    url = f"/protocoles/{protocol.public_id}/depenses/evaluations"
    response = client.post(
        url, data={"evaluation-evaluation": evaluation.id, "evaluation-minutes": "0"}
    )
    assert response.status_code == 422
    assert _error_of(response.get_data(as_text=True), "evaluation-minutes") == "De 1 à 720 minutes."
    other = session.exec(select(Evaluation).where(Evaluation.protocol_id != protocol.id)).first()
    response = client.post(
        url, data={"evaluation-evaluation": other.id, "evaluation-minutes": "30"}
    )
    assert response.status_code == 422
    assert _error_of(response.get_data(as_text=True), "evaluation-evaluation")
    for minutes in (75, 80):
        data = {"evaluation-evaluation": evaluation.id, "evaluation-minutes": str(minutes)}
        assert client.post(url, data=data).status_code == 302
    row = session.exec(
        select(EvaluationTime).where(EvaluationTime.evaluation_id == evaluation.id)
    ).one()
    assert row.minutes == 80
    entries = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.action == "evaluationtime.declare", AuditEntry.subject_id == evaluation.id
        )
        .order_by(AuditEntry.id)
    ).all()
    assert [e.after["minutes"] for e in entries][-2:] == [75, 80]
    assert entries[-1].before == {"minutes": 75}


def test_the_pages_in_english(session, login_as):
    client = login_as(MANAGER)
    assert client.post("/langue/en", data={"next": "/"}).status_code == 302
    structure = _azur(session)
    page = client.get(f"/structures/{structure.public_id}/couts").get_data(as_text=True)
    assert "Coûts horaires" not in page and "Hourly costs" in page
    protocol = _demo_protocol(session)
    page = client.get(f"/protocoles/{protocol.public_id}/depenses").get_data(as_text=True)
    assert "Statement of expenses" in page
