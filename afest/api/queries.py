"""The API's reads, for a token's actor (afest.api.tokens.TokenActor): every list and every
object is filtered by the afest.policy rule the pages use, so that an object of another
organisation is simply not found. Figures come from the rules the pages use: compliance
(afest.protocols.compliance), hours done (compliance.minutes_done, the certificate's rule),
dashboards with their small-cell rules (afest.dashboards.screens)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest import policy
from afest.api import paging
from afest.api import schemas as s
from afest.dashboards import screens as dashboard_screens
from afest.dashboards.board import Row, Scope
from afest.models import (
    CompetenceBlock,
    Organisation,
    Protocol,
    Referential,
    Role,
    SignerRole,
    User,
    VaeBlockResult,
    VaePathway,
)
from afest.protocols import compliance, evidence

Linker = Callable[[str], s.ProofPackOut]
PUBLIC_ID = re.compile(s.PUBLIC_ID_PATTERN)


# --- structures --------------------------------------------------------------------------


def structures(
    session: Session, actor, query: s.PageQuery
) -> tuple[list[s.StructureOut], str | None]:
    """The structures the actor may look into (policy.structure_visible)."""
    opco = aliased(Organisation)
    statement = (
        select(Organisation, opco.public_id)
        .outerjoin(opco, opco.id == Organisation.opco_id)
        .where(policy.structure_visible(actor))
    )
    rows = session.exec(paging.after(statement, Organisation, query.cursor, query.limit)).all()
    rows, cursor = paging.split(
        list(rows), query.limit, lambda r: paging.Key(r[0].created_at, r[0].public_id)
    )
    return [
        s.StructureOut(
            id=o.public_id,
            name=o.name,
            siret=o.siret,
            departement=o.departement,
            category=o.category,
            opco=opco_id,
        )
        for o, opco_id in rows
    ], cursor


# --- protocols ---------------------------------------------------------------------------


def _protocols(actor):
    funder = aliased(Organisation)
    return (
        select(
            Protocol,
            Organisation.public_id,
            Organisation.name,
            funder.public_id,
            Referential.code,
            User.full_name,
        )
        .join(Organisation, Organisation.id == Protocol.structure_id)
        .outerjoin(funder, funder.id == Protocol.funder_id)
        .join(Referential, Referential.id == Protocol.referential_id)
        .join(User, User.id == Protocol.learner_id)
        .where(policy.protocol_visible(actor))
    )


def _described(
    session: Session, actor, rows, settings: compliance.Settings, links: Linker
) -> list[s.ProtocolOut]:
    """Each protocol with its four conditions and hours, read for the whole page at once."""
    protocols = [r[0] for r in rows]
    if not protocols:
        return []
    facts = evidence.gather(session, [p.id for p in protocols])
    checklists = compliance.check_many(session, protocols, settings=settings, facts=facts)
    described = []
    for protocol, structure_id, structure_name, funder_id, ref_code, learner_name in rows:
        checklist = checklists[protocol.id]
        described.append(
            s.ProtocolOut(
                id=protocol.public_id,
                title=protocol.title,
                status=protocol.status,
                structure=structure_id,
                structure_name=structure_name,
                funder=funder_id,
                referential=ref_code,
                learner_name=learner_name,
                planned_start=protocol.planned_start,
                planned_end=protocol.planned_end,
                started_at=protocol.started_at,
                ended_at=protocol.ended_at,
                created_at=protocol.created_at,
                updated_at=protocol.updated_at,
                compliance=_compliance(checklist),
                hours=s.HoursOut(
                    planned_minutes=protocol.planned_minutes,
                    done_minutes=compliance.minutes_done(facts[2].get(protocol.id, [])),
                ),
                proof_pack=links(protocol.public_id)
                if policy.can_export_proof_pack(actor, protocol)
                else None,
            )
        )
    return described


def _compliance(checklist: compliance.Checklist) -> s.ComplianceOut:
    return s.ComplianceOut(
        all_met=checklist.all_met,
        at_risk=checklist.at_risk,
        conditions=[
            s.ConditionOut(number=c.number, key=c.key, state=c.state, met=c.met)
            for c in checklist.conditions
        ],
    )


def protocols(
    session: Session, actor, query: s.ProtocolQuery, *, settings: compliance.Settings, links: Linker
) -> tuple[list[s.ProtocolOut], str | None]:
    """One page of the protocols the actor may read, filtered as asked."""
    statement = _protocols(actor)
    if query.structure is not None:
        statement = statement.where(Organisation.public_id == query.structure)
    if query.status is not None:
        statement = statement.where(Protocol.status == query.status)
    if query.updated_since is not None:
        statement = statement.where(Protocol.updated_at >= query.updated_since)
    rows = session.exec(paging.after(statement, Protocol, query.cursor, query.limit)).all()
    rows, cursor = paging.split(
        list(rows), query.limit, lambda r: paging.Key(r[0].created_at, r[0].public_id)
    )
    return _described(session, actor, rows, settings, links), cursor


def protocol(
    session: Session, actor, public_id: str, *, settings: compliance.Settings, links: Linker
) -> s.ProtocolOut | None:
    if not PUBLIC_ID.fullmatch(public_id):  # no such id: not even asked of the database
        return None
    rows = session.exec(_protocols(actor).where(Protocol.public_id == public_id)).all()
    described = _described(session, actor, rows, settings, links)
    return described[0] if described else None


def sequences(session: Session, actor, public_id: str) -> s.SequenceList | None:
    """The current sequences of a protocol the actor may read: when, how long, of which kind,
    signed by whom. No observation, reflection nor note: what the pages say of the learner's
    work stays on the pages."""
    if not PUBLIC_ID.fullmatch(public_id):
        return None
    found = session.exec(
        select(Protocol.id, Protocol.planned_minutes).where(
            Protocol.public_id == public_id, policy.protocol_visible(actor)
        )
    ).first()
    if found is None:
        return None
    protocol_id, planned = found
    seqs = evidence.gather(session, [protocol_id])[2].get(protocol_id, [])
    return s.SequenceList(
        protocol=public_id,
        hours=s.HoursOut(planned_minutes=planned, done_minutes=compliance.minutes_done(seqs)),
        items=[
            s.SequenceOut(
                id=q.public_id,
                kind=q.kind,
                occurred_at=q.occurred_at,
                duration_minutes=q.duration_minutes,
                signed_by_tutor=str(SignerRole.TUTOR) in q.signed,
                signed_by_learner=str(SignerRole.LEARNER) in q.signed,
                analysed=bool(q.reflections) if q.kind == "situation" else None,
            )
            for q in seqs
        ],
    )


# --- dashboard ---------------------------------------------------------------------------


def dashboard_scope(actor) -> Scope:
    """An OPCO's token: the protocols it funds; a structure's: all of its structure."""
    if actor.has(Role.OPCO):
        return Scope(funder_ids=actor.orgs(Role.OPCO))
    (structure_id,) = actor.orgs(Role.MANAGER)
    return Scope(structure_id=structure_id, whole_structure=True)


def _figures(row: Row, *, key: bool = False) -> s.FigureRow:
    return s.FigureRow(
        label=str(row.label),
        key=str(row.key) if key and row.key is not None else None,
        structure=row.public_id,
        hidden=row.hidden,
        values=None if row.hidden else {k: int(v or 0) for k, v in row.values.items()},
    )


def dashboard(
    session: Session, actor, args: Mapping[str, str], *, k: int, pending: int
) -> s.DashboardOut | dict[str, list[str]]:
    """The dashboard's figures, small cells hidden by the pages' rule (screens.board); or the
    filters' errors."""
    form, board, status = dashboard_screens.board(
        session, actor, dashboard_scope(actor), args, k=k, export=True
    )
    if board is None:
        return {name: [str(m) for m in errors] for name, errors in form.errors.items()}
    return s.DashboardOut(
        k=board.k,
        suppressed=board.suppressed,
        pending_protocols=pending,
        totals=_figures(board.totals),
        statuses=[_figures(r, key=True) for r in board.statuses.rows],
        structures=[_figures(r) for r in board.structures.rows],
        departements=[_figures(r, key=True) for r in board.departements.rows],
        referentials=[_figures(r) for r in board.referentials.rows],
        months=[_figures(r, key=True) for r in board.months.rows],
    )


# --- VAE ---------------------------------------------------------------------------------


def pathways(session: Session, actor, query: s.PageQuery) -> tuple[list[s.PathwayOut], str | None]:
    """The VAE pathways the actor may read (policy.vae_visible) and their jury's block results."""
    statement = (
        select(VaePathway, Referential.code, Organisation.public_id)
        .join(Referential, Referential.id == VaePathway.referential_id)
        .join(Organisation, Organisation.id == VaePathway.structure_id)
        .where(policy.vae_visible(actor))
    )
    rows = session.exec(paging.after(statement, VaePathway, query.cursor, query.limit)).all()
    rows, cursor = paging.split(
        list(rows), query.limit, lambda r: paging.Key(r[0].created_at, r[0].public_id)
    )
    blocks: dict[int, list[s.BlockResultOut]] = {}
    if rows:
        for pathway_id, code, title, outcome in session.exec(
            select(
                VaeBlockResult.pathway_id,
                CompetenceBlock.code,
                CompetenceBlock.title,
                VaeBlockResult.outcome,
            )
            .join(CompetenceBlock, CompetenceBlock.id == VaeBlockResult.block_id)
            .where(VaeBlockResult.pathway_id.in_([r[0].id for r in rows]))
            .order_by(CompetenceBlock.code)
        ):
            blocks.setdefault(pathway_id, []).append(
                s.BlockResultOut(block=code, title=title, outcome=outcome)
            )
    return [
        s.PathwayOut(
            id=p.public_id,
            state=p.state,
            referential=code,
            structure=structure,
            jury_result=p.jury_result,
            created_at=p.created_at,
            blocks=blocks.get(p.id, []),
        )
        for p, code, structure in rows
    ], cursor
