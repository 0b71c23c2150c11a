"""Pausing and resuming on the protocol's page: the manager's forms, their messages beside the
field, the list of pauses, the "En pause" badges of the lists and the tablet, and no pause
control for anyone else."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from afest import policy
from afest.models import AuditEntry, Organisation, Protocol, ProtocolPause, ProtocolStatus
from afest.protocols import pausing
from tests.authz.routes_core import actor_for
from tests.authz.test_fuzz_forms import _fuzzer

PARIS = ZoneInfo("Europe/Paris")  # the platform's TIMEZONE in the tests
OPCO = "conseil@uniformation.demo"
DEMO_MANAGER = "direction@azur-aide.demo"


def today() -> date:
    return datetime.now(PARIS).date()


def _paused_count(session, protocol) -> int:
    return len(
        session.exec(select(ProtocolPause).where(ProtocolPause.protocol_id == protocol.id)).all()
    )


def _form(**over) -> dict:
    data = {
        "pause-paused_from": today().isoformat(),
        "pause-planned_until": (today() + timedelta(days=14)).isoformat(),
        "pause-reason": "Arrêt maladie de l'apprenante",
    }
    data.update(over)
    return data


@pytest.fixture()
def running(make_protocol):
    return make_protocol()


def test_the_manager_pauses_then_resumes_from_the_page(session, login_as, running):
    protocol, people = running
    manager = login_as(people["manager"].email)
    base = f"/protocoles/{protocol.public_id}"
    page = manager.get(base).get_data(as_text=True)
    assert f'action="{base}/pause"' in page and "Mettre en pause" in page
    assert f'action="{base}/reprise"' not in page

    response = manager.post(f"{base}/pause", data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith(f"{base}#pauses")
    page = manager.get(base).get_data(as_text=True)
    assert "En pause" in page and "Arrêt maladie de l&#39;apprenante" in page
    assert f'action="{base}/reprise"' in page and f'action="{base}/pause"' not in page
    assert "Les délais des séquences réflexives sont suspendus" in page  # the panel
    assert "mise en pause par Direction Test" in page

    response = manager.post(f"{base}/reprise", data={"resumed_on": today().isoformat()})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = manager.get(base).get_data(as_text=True)
    assert "reprise par Direction Test" in page and f'action="{base}/pause"' in page
    assert "prolongés de la durée de la pause" in page
    actions = session.exec(
        select(AuditEntry.action).where(
            AuditEntry.protocol_id == protocol.id, AuditEntry.subject_kind == "protocolpause"
        )
    ).all()
    assert sorted(actions) == ["protocol.pause", "protocol.resume"]


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"pause-reason": "  "}, "pause-reason", "Indiquez le motif de la pause."),
        ({"pause-paused_from": ""}, "pause-paused_from", "Indiquez le premier jour de la pause."),
        ({"pause-paused_from": "2026-13-45"}, "pause-paused_from", ""),
        (
            {"pause-paused_from": (today() + timedelta(days=1)).isoformat()},
            "pause-paused_from",
            "après aujourd&#39;hui",
        ),
        (
            {"pause-paused_from": "2000-01-01"},
            "pause-paused_from",
            "avant le début du protocole",
        ),
        (
            {"pause-planned_until": today().isoformat()},
            "pause-planned_until",
            "La reprise prévue doit suivre le début de la pause.",
        ),
    ],
)
def test_a_bad_pause_is_answered_beside_its_field(session, login_as, running, over, field, message):
    protocol, people = running
    manager = login_as(people["manager"].email)
    response = manager.post(f"/protocoles/{protocol.public_id}/pause", data=_form(**over))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert "<details open>" in page  # the form stays open with what was typed
    assert _paused_count(session, protocol) == 0


def test_a_bad_resumption_is_answered_beside_its_field(session, login_as, running):
    protocol, people = running
    manager = login_as(people["manager"].email)
    base = f"/protocoles/{protocol.public_id}"
    empty = manager.post(f"{base}/reprise", data={"resumed_on": today().isoformat()})
    assert empty.status_code == 422 and "pas en pause" in empty.get_data(as_text=True)
    assert manager.post(f"{base}/pause", data=_form()).status_code == 302
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = manager.post(f"{base}/reprise", data={"resumed_on": tomorrow})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="resumed_on-error"' in page and "après aujourd&#39;hui" in page
    assert pausing.open_pause(session, protocol.id) is not None


def test_a_reason_is_shown_escaped(session, login_as, running):
    protocol, people = running
    manager = login_as(people["manager"].email)
    base = f"/protocoles/{protocol.public_id}"
    script = "<script>alert(1)</script>"
    assert manager.post(f"{base}/pause", data=_form(**{"pause-reason": script})).status_code == 302
    page = manager.get(base).get_data(as_text=True)
    assert script not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("who", ["tutor", "learner"])
def test_no_pause_control_for_the_tutor_or_the_learner(session, login_as, running, who):
    protocol, people = running
    base = f"/protocoles/{protocol.public_id}"
    client, manager = login_as(people[who].email), login_as(people["manager"].email)
    steps = [
        ("never paused", None),
        ("paused", lambda: manager.post(f"{base}/pause", data=_form())),
        ("resumed", lambda: manager.post(f"{base}/reprise", data={"resumed_on": _today()})),
    ]
    for state, step in steps:
        if step is not None:
            assert step().status_code == 302, state
        page = client.get(base).get_data(as_text=True)
        assert f"{base}/pause" not in page and f"{base}/reprise" not in page, state
        assert "Mettre en pause" not in page and "Reprendre" not in page, state
        assert client.post(f"{base}/pause", data=_form()).status_code == 403, state
        assert client.post(f"{base}/reprise", data={"resumed_on": _today()}).status_code == 403
        if state == "paused":
            assert "En pause" in page and "Arrêt maladie de l&#39;apprenante" in page


def _today() -> str:
    return today().isoformat()


def _demo_protocol_seen_by_the_opco(session) -> Protocol:
    opco = actor_for(session, "opco")
    manager = actor_for(session, "manager")
    return session.exec(
        select(Protocol)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            policy.protocol_visible(opco),
            policy.protocol_visible(manager),
        )
        .order_by(Protocol.id)
    ).first()


def test_the_opco_sees_the_dates_of_a_pause_not_its_reason(session, login_as):
    protocol = _demo_protocol_seen_by_the_opco(session)
    base = f"/protocoles/{protocol.public_id}"
    assert login_as(DEMO_MANAGER).post(f"{base}/pause", data=_form()).status_code == 302
    page = login_as(OPCO).get(base).get_data(as_text=True)
    assert "Pauses du protocole" in page and "En pause" in page
    assert "Arrêt maladie" not in page and "Mettre en pause" not in page


def test_lists_and_the_tablet_show_a_paused_protocol(session, login_as, running):
    protocol, people = running
    pausing.pause(
        session,
        actor_id=people["manager"].id,
        protocol=protocol,
        paused_from=today(),
        planned_until=None,
        reason="Absence du tuteur",
        zone=PARIS,
    )
    session.commit()
    index = login_as(people["manager"].email).get("/protocoles/").get_data(as_text=True)
    assert "En pause" in index
    tablet = login_as(people["tutor"].email).get("/tablette/").get_data(as_text=True)
    assert "En pause depuis le" in tablet
    home = login_as(people["learner"].email).get("/").get_data(as_text=True)
    assert "En pause" in home


def test_the_resume_and_pause_forms_survive_hostile_input(session, login_as, running):
    protocol, people = running
    manager = login_as(people["manager"].email)
    base = f"/protocoles/{protocol.public_id}"
    _fuzzer(
        session,
        manager,
        f"{base}/pause",
        ["pause-paused_from", "pause-planned_until", "pause-reason"],
    )()
    if pausing.open_pause(session, protocol.id) is None:
        assert manager.post(f"{base}/pause", data=_form()).status_code == 302
    _fuzzer(session, manager, f"{base}/reprise", ["resumed_on"])()


def _paused_row(page: str) -> str:
    return page.split("dont en pause</th>")[1].split("</tr>")[0]


def test_the_dashboards_count_a_paused_protocol_and_their_drill_down_marks_it(session, login_as):
    protocol = _demo_protocol_seen_by_the_opco(session)
    opco = login_as(OPCO)
    assert "<td>0</td>" in _paused_row(opco.get("/tableaux/opco").get_data(as_text=True))
    base = f"/protocoles/{protocol.public_id}"
    assert login_as(DEMO_MANAGER).post(f"{base}/pause", data=_form()).status_code == 302
    # one paused protocol is one learner: hidden from the OPCO, counted for its own manager
    assert "masqué" in _paused_row(opco.get("/tableaux/opco").get_data(as_text=True))
    structure = session.get(Organisation, protocol.structure_id)
    own = login_as(DEMO_MANAGER).get(f"/tableaux/structures/{structure.public_id}")
    assert "<td>1</td>" in _paused_row(own.get_data(as_text=True))
    drill = opco.get(f"/tableaux/structures/{structure.public_id}").get_data(as_text=True)
    line = drill.split(f'href="{base}"')[1].split("</tr>")[0]
    assert "En pause" in line
    export = opco.get("/tableaux/opco/export.csv").get_data(as_text=True)
    assert "dont en pause;masqué (moins de 3);masqué (moins de 3)" in export
