"""Authorization table of the costs: a structure's hourly costs and statement of expenses are
its manager's alone (salary costs are not the admin's: 404 for everyone else, a structure
of another tenant too); a protocol's costs page is its structure's manager's (403 for the
others who see the protocol, 404 for the admin and for a protocol of another tenant)."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from afest.models import (
    ClaimArchive,
    CostRole,
    HourlyCost,
    Organisation,
    OtherCost,
    OtherCostKind,
    Protocol,
    Role,
    User,
)
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each
from tests.authz.routes_core import _foreign_protocol, _protocol_in_scope

AZUR = "Azur Aide à Domicile"


def _structure(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.name == AZUR)).one()


def _manager_id(session) -> int:
    return session.exec(select(User.id).where(User.email == ROLE_EMAILS["manager"])).one()


def _cost(session, structure_id: int, author_id: int) -> HourlyCost:
    """An hourly cost of its own (a default of a role of the year 2001, which nothing
    overlaps), for the end and removal routes."""
    cost = HourlyCost(
        structure_id=structure_id,
        role=CostRole.TUTOR,
        valid_from=date(2001, 1, 1),
        cents_per_hour=2000,
        created_by_id=author_id,
    )
    session.add(cost)
    session.commit()
    return cost


def _cost_in_scope(session, who: str) -> dict[str, str]:
    structure = _structure(session)
    cost = _cost(session, structure.id, _manager_id(session))
    return {"structure_id": structure.public_id, "cost_id": cost.public_id}


def _foreign_cost(session, factories) -> dict[str, str]:
    structure = factories.make_structure()
    manager = factories.make_user([(Role.MANAGER, structure.id)])
    cost = _cost(session, structure.id, manager.id)
    return {"structure_id": structure.public_id, "cost_id": cost.public_id}


def _other(session, protocol_public_id: str, author_id: int) -> dict[str, str]:
    protocol = session.exec(select(Protocol).where(Protocol.public_id == protocol_public_id)).one()
    cost = OtherCost(
        protocol_id=protocol.id,
        kind=OtherCostKind.OTHER,
        label="Coût du tableau",
        amount_cents=1000,
        spent_on=date(2026, 1, 5),
        created_by_id=author_id,
    )
    session.add(cost)
    session.commit()
    return {"public_id": protocol_public_id, "cost_id": cost.public_id}


def _other_in_scope(session, who: str) -> dict[str, str]:
    return _other(session, _protocol_in_scope(session, who), _manager_id(session))


def _foreign_other(session, factories) -> dict[str, str]:
    return _other(session, _foreign_protocol(session, factories), _manager_id(session))


def _claim(session, structure: Organisation, requester_id: int, *, ready: bool) -> dict:
    """A funding claim of the structure; `ready`: built, its file in place."""
    from pathlib import Path

    from tests.conftest import KEPT_FILES

    claim = ClaimArchive(
        structure_id=structure.id,
        requested_by_id=requester_id,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        state="ready" if ready else "building",
        total=1,
    )
    session.add(claim)
    session.commit()
    if ready:
        path = Path(KEPT_FILES["claims"]) / f"{claim.public_id}.zip"  # claims.path_of
        path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty ZIP
    return {"structure_id": structure.public_id, "claim_id": claim.public_id}


def _foreign_claim(ready: bool):
    def make(session, factories) -> dict:
        structure = factories.make_structure()
        manager = factories.make_user([(Role.MANAGER, structure.id)])
        return _claim(session, structure, manager.id, ready=ready)

    return make


OBJECTS = {
    "costed_structure": ObjectKind(
        in_scope=lambda session, who: _structure(session).public_id,
        foreign=lambda session, factories: factories.make_structure().public_id,
    ),
    "hourly_cost": ObjectKind(in_scope=_cost_in_scope, foreign=_foreign_cost),
    "other_cost": ObjectKind(in_scope=_other_in_scope, foreign=_foreign_other),
    "claim": ObjectKind(
        in_scope=lambda session, who: _claim(
            session, _structure(session), _manager_id(session), ready=False
        ),
        foreign=_foreign_claim(ready=False),
    ),
    "ready_claim": ObjectKind(
        in_scope=lambda session, who: _claim(
            session, _structure(session), _manager_id(session), ready=True
        ),
        foreign=_foreign_claim(ready=True),
    ),
}

MANAGER = each(404, manager=200)
# a protocol's costs: 403 for those who see the protocol, 404 for the admin who does not
PROTOCOL = each(403, admin=404, manager=200)

ROUTES = {
    # the demo manager runs one structure: sent straight to it
    "costs.index": Route("GET", each(403, manager=302), foreign=None),
    "costs.rates": Route("GET", MANAGER, obj="costed_structure"),
    # the forms sent are empty: answered on them
    "costs.add_rate": Route("POST", each(404, manager=422), obj="costed_structure"),
    "costs.end_rate": Route("POST", each(404, manager=422), obj="hourly_cost"),
    "costs.remove_rate": Route("POST", each(404, manager=302), obj="hourly_cost"),
    "costs.statement": Route("GET", MANAGER, obj="costed_structure"),
    "costs.statement_xlsx": Route("GET", MANAGER, obj="costed_structure"),
    "costs.statement_pdf": Route("GET", MANAGER, obj="costed_structure"),
    # an empty form asks for the year so far: recorded, built, then her claim's page
    "costs.ask_claim": Route("POST", each(404, manager=302), obj="costed_structure"),
    "costs.claim": Route("GET", MANAGER, obj="claim"),
    "costs.claim_zip": Route("GET", MANAGER, obj="ready_claim"),
    "costs.protocol": Route("GET", PROTOCOL, obj="protocol"),
    "costs.add_other": Route("POST", each(403, admin=404, manager=422), obj="protocol"),
    "costs.remove_other": Route("POST", each(403, admin=404, manager=302), obj="other_cost"),
    "costs.declare_time": Route("POST", each(403, admin=404, manager=422), obj="protocol"),
}
