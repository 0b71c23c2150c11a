"""The API fuzzed by schemathesis against the OpenAPI document it serves, through the WSGI
app: a bounded number of examples per operation, each answer checked for a server error, for
conformance to the document, and for any object of another organisation."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlmodel import select

from afest.models import Organisation, Protocol, Sequence, VaePathway
from tests.api.conftest import OPCO_SANTE, UNIFORMATION

# examples per operation: bounded in the suite; AFEST_FUZZ_EXAMPLES=500 for a deeper run
EXAMPLES = int(os.environ.get("AFEST_FUZZ_EXAMPLES", "10"))


def _foreign_ids(session, code: str) -> set[str]:
    """Public ids an OPCO other than `code` funds: its protocols, their sequences and
    structures, and every VAE pathway (an OPCO reads none)."""
    opco = session.exec(select(Organisation).where(Organisation.code == code)).one()
    other = Protocol.funder_id != opco.id
    ids = set(session.exec(select(Protocol.public_id).where(other)).all())
    ids |= set(
        session.exec(
            select(Sequence.public_id)
            .join(Protocol, Protocol.id == Sequence.protocol_id)
            .where(other)
        ).all()
    )
    ids |= set(
        session.exec(
            select(Organisation.public_id).where(
                Organisation.kind == "structure", Organisation.opco_id != opco.id
            )
        ).all()
    )
    ids |= set(session.exec(select(VaePathway.public_id)).all())
    return ids


def _no_foreign_object(foreign: set[str]):
    def check(_ctx, response, case) -> None:
        if response.status_code != 200:
            return
        body = json.dumps(response.json())
        leaked = {i for i in foreign if i in body}
        assert not leaked, (
            f"{case.method} {case.formatted_path}: another tenant's {sorted(leaked)[:3]}"
        )

    return check


@pytest.mark.parametrize("code", [UNIFORMATION, OPCO_SANTE])
def test_the_api_fuzzed(app, session, make_token, code):
    secret = make_token(code)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {secret}"}
    checks = [
        not_a_server_error,
        response_schema_conformance,
        _no_foreign_object(_foreign_ids(session, code)),
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)

        run()


def test_every_object_of_another_opco_is_not_found_and_every_own_one_conforms(
    app, session, make_token
):
    """The detail operations with real ids: an own protocol's answer conforms to the document,
    another OPCO's is 404 (schemathesis's generated ids would never hit one)."""
    secret = make_token(UNIFORMATION)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {secret}"}
    foreign = _foreign_ids(session, UNIFORMATION)
    checks = [
        not_a_server_error,
        response_schema_conformance,
        content_type_conformance,
        _no_foreign_object(foreign),
    ]
    mine = session.exec(
        select(Protocol.public_id)
        .join(Organisation, Organisation.id == Protocol.funder_id)
        .where(Organisation.code == UNIFORMATION)
    ).all()
    theirs = session.exec(select(Protocol.public_id).where(Protocol.public_id.in_(foreign))).all()
    assert mine and theirs
    for path in ("/api/v1/protocols/{public_id}", "/api/v1/protocols/{public_id}/sequences"):
        operation = schema[path]["GET"]
        for public_id, status in [*((i, 200) for i in mine[:5]), *((i, 404) for i in theirs[:10])]:
            case = operation.Case(path_parameters={"public_id": public_id})
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)
            assert response.status_code == status, (path, public_id)
