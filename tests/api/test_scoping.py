"""What a token reads: what its organisation's people read, through the same policy; another
organisation's objects are absent from lists and not found (404)."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from afest.api.tokens import TokenActor
from afest.models import Protocol, Role, Sequence, VaePathway
from afest.policy import protocol_visible
from afest.proof.certificates import minutes_certified
from afest.protocols import compliance
from afest.protocols.queries import protocol_view
from tests.api.conftest import OPCO_SANTE, UNIFORMATION, organisation

ENDPOINTS = ("/api/v1/protocols/{id}", "/api/v1/protocols/{id}/sequences")


def _funded(session, code: str) -> set[str]:
    org = organisation(session, code=code)
    return set(session.exec(select(Protocol.public_id).where(Protocol.funder_id == org.id)).all())


def test_an_opco_token_lists_exactly_the_protocols_its_opco_funds(session, api_as):
    for code in (UNIFORMATION, OPCO_SANTE):
        listed = {p["id"] for p in api_as(code).all("/api/v1/protocols?limit=200")}
        assert listed == _funded(session, code)
        assert listed


def test_a_token_of_one_opco_sees_nothing_of_another(session, api_as):
    api = api_as(UNIFORMATION)
    foreign = _funded(session, OPCO_SANTE)
    listed = {p["id"] for p in api.all("/api/v1/protocols")}
    assert listed and not listed & foreign
    for public_id in sorted(foreign)[:10]:
        for endpoint in ENDPOINTS:
            response = api.get(endpoint.format(id=public_id))
            assert response.status_code == 404, endpoint
            assert response.json["status"] == 404
    structures = {s["opco"] for s in api.all("/api/v1/structures")}
    assert structures == {organisation(session, code=UNIFORMATION).public_id}
    santé = {s["id"] for s in api_as(OPCO_SANTE).all("/api/v1/structures")}
    assert santé and not santé & {s["id"] for s in api.all("/api/v1/structures")}


def test_a_structure_filter_of_another_tenant_finds_nothing(session, api_as):
    foreign = organisation(session, name="EHPAD Les Oliviers")  # OPCO Santé's
    response = api_as(UNIFORMATION).get(f"/api/v1/protocols?structure={foreign.public_id}")
    assert response.status_code == 200 and response.json["items"] == []
    mine = api_as(OPCO_SANTE).get(f"/api/v1/protocols?structure={foreign.public_id}&limit=200")
    assert {p["structure"] for p in mine.json["items"]} == {foreign.public_id}


def test_a_protocols_compliance_and_hours_are_the_pages_and_the_certificates(app, session, api_as):
    api = api_as(OPCO_SANTE)
    org = organisation(session, code=OPCO_SANTE)
    settings = compliance.Settings.from_config(app.config)
    protocols = session.exec(select(Protocol).where(Protocol.funder_id == org.id).limit(8)).all()
    for protocol in protocols:
        shown = api.get(f"/api/v1/protocols/{protocol.public_id}").json
        checklist = compliance.check(session, protocol, settings=settings)
        assert [c["state"] for c in shown["compliance"]["conditions"]] == [
            str(c.state) for c in checklist.conditions
        ]
        assert shown["compliance"]["all_met"] == checklist.all_met
        view = protocol_view(session, protocol)
        assert shown["hours"]["done_minutes"] == minutes_certified(view)
        sequences = api.get(f"/api/v1/protocols/{protocol.public_id}/sequences").json
        assert sequences["hours"] == shown["hours"]
        assert {s["id"] for s in sequences["items"]} == {s.public_id for s in view.sequences}
        assert shown["proof_pack"]["zip"].endswith(f"/protocoles/{protocol.public_id}/preuve.zip")


def test_sequences_carry_no_observation_nor_note(session, api_as):
    org = organisation(session, code=UNIFORMATION)
    protocol = session.exec(
        select(Protocol)
        .join(Sequence, Sequence.protocol_id == Protocol.id)
        .where(Protocol.funder_id == org.id)
    ).first()
    items = (
        api_as(UNIFORMATION).get(f"/api/v1/protocols/{protocol.public_id}/sequences").json["items"]
    )
    assert items
    assert set(items[0]) == {
        "id",
        "kind",
        "occurred_at",
        "duration_minutes",
        "signed_by_tutor",
        "signed_by_learner",
        "analysed",
    }


def test_a_structures_token_reads_as_its_managers(session, api_as):
    structure = organisation(session, name="EHPAD Les Oliviers")
    api = api_as(organisation=structure)
    actor = TokenActor(0, structure.id, Role.MANAGER)
    visible = set(session.exec(select(Protocol.public_id).where(protocol_visible(actor))).all())
    assert {p["id"] for p in api.all("/api/v1/protocols")} == visible
    pathways = set(
        session.exec(
            select(VaePathway.public_id).where(VaePathway.structure_id == structure.id)
        ).all()
    )
    assert pathways
    assert {p["id"] for p in api.all("/api/v1/vae/pathways")} == pathways
    assert [s["id"] for s in api.all("/api/v1/structures")] == [structure.public_id]


def test_an_opco_token_reads_no_vae_file(api_as):
    """As on the pages (policy.vae_visible): OPCO advisers do not read VAE files."""
    assert api_as(OPCO_SANTE).all("/api/v1/vae/pathways") == []


@pytest.mark.parametrize("code", [UNIFORMATION, OPCO_SANTE])
def test_the_dashboard_counts_the_opcos_protocols_only(session, api_as, code):
    board = api_as(code).get("/api/v1/dashboard").json
    assert board["totals"]["values"]["protocols"] == len(_funded(session, code))
    mine = {s["structure"] for s in board["structures"]}
    listed = {s["id"] for s in api_as(code).all("/api/v1/structures")}
    assert mine and mine <= listed


def _statements(connection, api, url: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        response = api.get(url)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200
    assert response.json["items"]
    skipped = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")
    return len([s for s in statements if not s.lstrip().upper().startswith(skipped)])


def test_a_page_of_protocols_costs_the_same_statements_whatever_its_size(connection, api_as):
    api = api_as(OPCO_SANTE)
    api.get("/api/v1/structures")  # the token's first use is recorded (a write) once
    assert _statements(connection, api, "/api/v1/protocols?limit=2") == _statements(
        connection, api, "/api/v1/protocols?limit=60"
    )
