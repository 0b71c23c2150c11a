"""Every date a form takes is a sane one: from 1 January 2000 to five years from today, and,
for what has already happened where the domain says so, today at the latest; the message goes
beside the field."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select
from wtforms import DateField, DateTimeField
from wtforms.fields.core import UnboundField

import afest
from afest.core.forms import Form, LocalDateTimeField, SaneDate, date_problem, latest
from afest.models import Cohort, Evaluation, VaeMilestone, VaeState
from tests.dashboards.test_pages import CONSULTANT, cohort_url
from tests.organisations.test_forms import beside, cohort_form
from tests.sequences.test_tablet import TUTOR, demo_protocol
from tests.vae.test_pages import _accompanied

NOON = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)


def _forms() -> list[type]:
    """Every form class of afest's forms modules, and their subclasses."""
    for module in pkgutil.iter_modules(afest.__path__):
        if module.ispkg and importlib.util.find_spec(f"afest.{module.name}.forms"):
            importlib.import_module(f"afest.{module.name}.forms")
    found, todo = [], list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("afest."):  # not the tests' own
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _date_fields():
    for cls in _forms():
        for name in dir(cls):
            field = getattr(cls, name, None)
            if isinstance(field, UnboundField) and issubclass(
                field.field_class, DateField | DateTimeField | LocalDateTimeField
            ):
                yield f"{cls.__module__}.{cls.__name__}.{name}", field


def test_every_date_field_of_every_form_is_kept_sane():
    fields = dict(_date_fields())
    assert len(fields) >= 10, sorted(fields)  # protocol, plan, pause, evaluation, VAE, cohort...
    unguarded = [
        where
        for where, field in fields.items()
        if not any(isinstance(v, SaneDate) for v in field.kwargs.get("validators", ()))
    ]
    assert not unguarded


@pytest.mark.parametrize(
    ("day", "past", "problem"),
    [
        (date(1999, 12, 31), False, "trop ancienne"),
        (date(1, 1, 1), False, "trop ancienne"),
        (date(2000, 1, 1), False, None),
        (date(2031, 12, 3), False, None),
        (date(2031, 12, 4), False, "trop lointaine"),
        (date(9999, 12, 31), False, "trop lointaine"),
        (date(2026, 12, 3), True, None),
        (date(2026, 12, 4), True, "pas encore arrivée"),
        (datetime(2026, 12, 4, 0, 30), True, "pas encore arrivée"),
    ],
)
def test_the_bounds(app, day, past, problem):
    with time_machine.travel(NOON, tick=False), app.test_request_context("/"):
        found = date_problem(day, past=past)
        assert (problem is None) == (found is None), found
        assert problem is None or problem in str(found)


def test_five_years_from_a_29_february():
    assert latest(date(2028, 2, 29)) == date(2033, 2, 28)


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field", "message"),
    [
        ("1999-12-31", "2027-12-31", "starts_on", "Date trop ancienne"),
        ("2027-01-01", "9999-12-31", "ends_on", "Date trop lointaine"),
    ],
)
def test_a_cohort_out_of_range_is_refused_beside_the_field(
    session, login_as, starts_on, ends_on, field, message
):
    data = cohort_form(starts_on=starts_on, ends_on=ends_on)
    response = login_as("admin@afest.demo").post("/admin/cohortes/nouvelle", data=data)
    assert response.status_code == 422
    assert beside(response.get_data(as_text=True), field).startswith(message)
    assert session.exec(select(Cohort).where(Cohort.code == data["code"])).first() is None


def test_a_vae_milestone_of_the_last_century_is_refused_beside_its_date(session, login_as):
    consultant = login_as(CONSULTANT)
    pathway = _accompanied(session, VaeState.VALIDATION)
    before = session.exec(select(VaeMilestone).where(VaeMilestone.pathway_id == pathway.id)).all()
    response = consultant.post(
        f"/vae/{pathway.public_id}/etapes",
        data={"state": "prise_en_charge", "occurred_on": "1026-03-01"},
    )
    assert response.status_code == 422
    assert "Date trop ancienne" in beside(response.get_data(as_text=True), "occurred_on")
    after = session.exec(select(VaeMilestone).where(VaeMilestone.pathway_id == pathway.id)).all()
    assert len(after) == len(before)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [("du=1999-12", "du", "Date trop ancienne"), ("au=2206-01", "au", "Date trop lointaine")],
)
def test_a_dashboard_month_out_of_range_is_refused_beside_it(
    session, login_as, query, field, message
):
    response = login_as(CONSULTANT).get(f"{cohort_url(session)}?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>\s*{message}', page), page[:200]


def test_an_evaluation_of_a_day_to_come_is_refused_beside_the_date(session, login_as):
    protocol = demo_protocol(session)
    form = {
        "kind": "intermediate",
        "evaluated_on": (date.today() + timedelta(days=2)).isoformat(),
        "client_id": "tomorrow-evaluation",
    }
    url = f"/protocoles/{protocol.public_id}/evaluations/nouvelle"
    response = login_as(TUTOR).post(url, data=form)
    assert response.status_code == 422
    assert "pas encore arrivée" in beside(response.get_data(as_text=True), "evaluated_on")
    assert (
        session.exec(
            select(Evaluation).where(Evaluation.client_id == "tomorrow-evaluation")
        ).first()
        is None
    )
