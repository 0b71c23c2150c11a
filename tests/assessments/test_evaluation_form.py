"""The evaluation form as the tutor meets it: dated today unless she says otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from afest.demo.people import DEMO_PIN
from afest.models import Evaluation, Level, Protocol, Signature, SignedKind, SignerRole, User
from tests.conftest import PASSWORD

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


def _evaluation(session, login_as, protocol) -> str:
    levels = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).all()
    form = {"kind": "intermediate", "evaluated_on": "2026-12-01", "client_id": "eval-pin-1"}
    for competence in protocol.competences:
        form[f"level-{competence.competence_id}"] = str(levels[1].id)
    response = login_as(TUTOR).post(
        f"/protocoles/{protocol.public_id}/evaluations/nouvelle", data=form
    )
    assert response.status_code == 302
    return response.headers["Location"]


def _signatures(session, url: str) -> list[Signature]:
    evaluation = session.exec(
        select(Evaluation).where(Evaluation.public_id == url.rsplit("/", 1)[-1])
    ).one()
    return session.exec(
        select(Signature).where(
            Signature.subject_kind == SignedKind.EVALUATION, Signature.subject_id == evaluation.id
        )
    ).all()


def test_the_tutor_signs_an_evaluation_with_her_tablet_pin(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    url = _evaluation(session, login_as, protocol)
    tutor = login_as(TUTOR)
    wrong = tutor.post(f"{url}/signer", data={"role": "tutor", "secret": "0000"})
    assert wrong.status_code == 422
    assert "Code PIN ou mot de passe incorrect." in wrong.get_data(as_text=True)
    assert _signatures(session, url) == []
    assert (
        tutor.post(f"{url}/signer", data={"role": "tutor", "secret": DEMO_PIN}).status_code == 302
    )
    [signature] = _signatures(session, url)
    assert (signature.signer_role, signature.method) == (SignerRole.TUTOR, "pin")


def test_the_learner_countersigns_with_her_password_not_a_pin(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    url = _evaluation(session, login_as, protocol)
    learner = login_as("apprenant-incomplet@azur-aide.demo")
    refused = learner.post(f"{url}/signer", data={"role": "learner", "secret": DEMO_PIN})
    assert refused.status_code == 422
    assert "Mot de passe incorrect." in refused.get_data(as_text=True)
    done = learner.post(f"{url}/signer", data={"role": "learner", "secret": PASSWORD})
    assert done.status_code == 302
    [signature] = _signatures(session, url)
    assert (signature.signer_role, signature.method) == (SignerRole.LEARNER, "password")
