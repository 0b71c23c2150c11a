"""Authorization table of issue 4: protocol lifecycle, référentiels, evaluations, proof pack."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from afest import policy
from afest.models import (
    Evaluation,
    EvaluationKind,
    Level,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    Referential,
    ReferentialKind,
)
from tests.authz import ANON, ObjectKind, Route, each
from tests.authz.routes_core import actor_for


def _protocol_with(status: ProtocolStatus):
    def in_scope(session, who: str) -> str:
        query = select(Protocol).where(Protocol.status == status).order_by(Protocol.id)
        if who not in (ANON, "admin"):
            visible = query.where(policy.protocol_visible(actor_for(session, who)))
            found = session.exec(visible).first()
            if found is not None:
                return found.public_id
        return session.exec(query).first().public_id

    def foreign(session, factories) -> str:
        stage = {
            ProtocolStatus.DRAFT: "draft",
            ProtocolStatus.AWAITING_SIGNATURES: "awaiting",
            ProtocolStatus.IN_PROGRESS: "in_progress",
        }[status]
        protocol, _people = factories.make_protocol(stage=stage)
        return protocol.public_id

    return ObjectKind(in_scope=in_scope, foreign=foreign)


def _evaluation_in_scope(session, who: str) -> str:
    query = (
        select(Evaluation)
        .join(Protocol, Protocol.id == Evaluation.protocol_id)
        .order_by(Evaluation.id)
    )
    if who not in (ANON, "admin"):
        found = session.exec(query.where(policy.protocol_visible(actor_for(session, who)))).first()
        if found is not None:
            return found.public_id
    return session.exec(query).first().public_id


def _foreign_evaluation(session, factories) -> str:
    from afest.assessments import evaluations

    protocol, people = factories.make_protocol()
    competence_id = session.exec(
        select(ProtocolCompetence.competence_id).where(
            ProtocolCompetence.protocol_id == protocol.id
        )
    ).first()
    level_id = session.exec(
        select(Level.id).where(Level.referential_id == protocol.referential_id)
    ).first()
    evaluation = evaluations.create_evaluation(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        client_id=f"authz-{protocol.public_id}",
        kind=EvaluationKind.INTERMEDIATE,
        evaluated_on=date.today(),
        summary="",
        levels={competence_id: level_id},
    )
    return evaluation.public_id


def _referential_in_scope(session, who: str) -> str:
    # A structure-kind référentiel with no owner: visible to managers, editable by admins only.
    return (
        session.exec(
            select(Referential)
            .where(
                Referential.kind == ReferentialKind.STRUCTURE,
                Referential.owner_structure_id.is_(None),
            )
            .order_by(Referential.id)
        )
        .first()
        .public_id
    )


def _foreign_referential(session, factories) -> str:
    from afest.referentials import editor as referential_editor

    structure = factories.make_structure()
    return referential_editor.create_structure_referential(
        session, actor_id=None, structure_id=structure.id, code="FOREIGN-REF", title="Étranger"
    ).public_id


OBJECTS = {
    "protocol_draft": _protocol_with(ProtocolStatus.DRAFT),
    "protocol_awaiting": _protocol_with(ProtocolStatus.AWAITING_SIGNATURES),
    "protocol_progress": _protocol_with(ProtocolStatus.IN_PROGRESS),
    "evaluation": ObjectKind(in_scope=_evaluation_in_scope, foreign=_foreign_evaluation),
    "referential": ObjectKind(in_scope=_referential_in_scope, foreign=_foreign_referential),
}

MANAGER_ONLY = each(403, manager=200)

ROUTES = {
    # protocol lifecycle (the manager drafts; the three parties sign)
    "protocols.new": Route("GET", MANAGER_ONLY, foreign=None),
    "protocols.create": Route("POST", each(403, manager=422), foreign=None),
    "protocols.edit": Route(
        "GET", each(404, manager=200, opco=403, consultant=403), obj="protocol_draft"
    ),
    "protocols.update": Route(
        "POST", each(404, manager=422, opco=403, consultant=403), obj="protocol_draft"
    ),
    "protocols.add_plan": Route(
        "POST", each(404, manager=422, opco=403, consultant=403), obj="protocol_draft"
    ),
    "protocols.positioning": Route(
        "POST", each(404, manager=422, opco=403, consultant=403), obj="protocol_draft"
    ),
    "protocols.submit": Route(
        "POST", each(404, manager=302, opco=403, consultant=403), obj="protocol_draft"
    ),
    "protocols.sign": Route(
        "POST", each(404, manager=422, tutor=422, opco=403, consultant=403), obj="protocol_awaiting"
    ),
    "protocols.complete": Route(
        "POST", each(404, manager=422, tutor=403, opco=403, consultant=403), obj="protocol_progress"
    ),
    "protocols.stop": Route(
        "POST", each(404, manager=422, tutor=403, opco=403, consultant=403), obj="protocol_progress"
    ),
    # pause and resumption (the manager; refused empty: 422)
    "protocols.pause": Route(
        "POST", each(404, manager=422, tutor=403, opco=403, consultant=403), obj="protocol_progress"
    ),
    "protocols.resume": Route(
        "POST", each(404, manager=422, tutor=403, opco=403, consultant=403), obj="protocol_progress"
    ),
    # evaluations
    "evaluations.new": Route(
        "GET", each(404, manager=403, tutor=200, opco=403, consultant=403), obj="protocol_progress"
    ),
    "evaluations.create": Route(
        "POST", each(404, manager=403, tutor=422, opco=403, consultant=403), obj="protocol_progress"
    ),
    "evaluations.show": Route("GET", each(200, admin=404), obj="evaluation"),
    "evaluations.sign": Route(
        "POST",
        each(403, admin=404, tutor=422, learner=422),
        obj="evaluation",
    ),
    "evaluations.bilan": Route("GET", each(200, admin=404), obj="protocol"),
    # proof pack
    "proofpack.pdf": Route("GET", each(403, admin=404, manager=200, opco=200), obj="protocol"),
    "proofpack.xlsx": Route("GET", each(403, admin=404, manager=200, opco=200), obj="protocol"),
    "proofpack.csv": Route("GET", each(403, admin=404, manager=200, opco=200), obj="protocol"),
    "proofpack.archive": Route("GET", each(403, admin=404, manager=200, opco=200), obj="protocol"),
    # public: an auditor may hold a pack and no account
    "proofpack.verify": Route("GET", each(200, anon=200), foreign=None),
    "proofpack.verify_upload": Route("POST", each(422, anon=422), foreign=None),
    "proofpack.certificate": Route("GET", each(200, anon=200), foreign=None),
    # référentiels
    "referentials.index": Route("GET", each(403, admin=200, manager=200), foreign=None),
    "referentials.import_form": Route("GET", each(403, admin=200), foreign=None),
    "referentials.import_file": Route("POST", each(403, admin=422), foreign=None),
    "referentials.new": Route("GET", each(403, admin=200, manager=200), foreign=None),
    "referentials.create": Route("POST", each(403, admin=422, manager=422), foreign=None),
    # Administrators see every référentiel, so "another tenant's" one is tested apart
    # (tests/referentials/test_pages.py).
    "referentials.show": Route(
        "GET", each(404, admin=200, manager=200), obj="referential", foreign=None
    ),
    "referentials.add_block": Route(
        "POST", each(404, admin=422, manager=403), obj="referential", foreign=None
    ),
    "referentials.add_competence": Route(
        "POST", each(404, admin=422, manager=403), obj="referential", foreign=None
    ),
    "referentials.set_levels": Route(
        "POST", each(404, admin=422, manager=403), obj="referential", foreign=None
    ),
}
