"""The evaluation form as the tutor meets it: dated today unless she says otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from afest.models import Protocol, User

TUTOR = "tuteur@azur-aide.demo"


def _protocol_of(session, email: str) -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def test_a_new_evaluation_is_dated_today_in_the_platform_time_zone(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    # 23:30 UTC on 14 March is already the 15th in Paris
    with time_machine.travel(datetime(2027, 3, 14, 23, 30, tzinfo=UTC), tick=False):
        page = login_as(TUTOR).get(f"/protocoles/{protocol.public_id}/evaluations/nouvelle")
    assert page.status_code == 200
    field = re.search(r'<input[^>]*name="evaluated_on"[^>]*>', page.get_data(as_text=True))
    assert field and 'value="2027-03-15"' in field.group(0)
