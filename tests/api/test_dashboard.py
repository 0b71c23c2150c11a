"""The dashboard's figures through the API hide small cells as the pages do
(afest.dashboards.smallcells): a structure of fewer than k learners shows no figure to its
OPCO, and every figure to its own token."""

from __future__ import annotations

from tests.api.conftest import UNIFORMATION, organisation


def _row(board, structure):
    return next(r for r in board["structures"] if r["structure"] == structure.public_id)


def test_a_structure_of_one_learner_is_hidden_from_its_opco(
    session, api_as, make_structure, make_protocol
):
    opco = organisation(session, code=UNIFORMATION)
    small = make_structure(name="SAAD Petit", opco=opco)
    make_protocol(structure=small)
    board = api_as(UNIFORMATION).get("/api/v1/dashboard").json
    row = _row(board, small)
    assert row["hidden"] is True and row["values"] is None
    assert board["suppressed"] is True
    own = api_as(organisation=small).get("/api/v1/dashboard").json
    assert own["totals"]["values"]["protocols"] == 1
    assert _row(own, small)["values"]["learners"] == 1


def test_a_bad_filter_is_a_problem(api_as):
    response = api_as(UNIFORMATION).get("/api/v1/dashboard?du=2026-13")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "du" in response.json["detail"]
