"""A learner's right of access (GDPR art. 15): everything afest holds about them.

One plain structure, gathered here; afest.accounts.export_format hands it over as a JSON file
to download and as a readable page. Secrets
(password and PIN hashes, session tokens) are never part of it: they are not data about the
person but keys to their account.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from afest.core.audit import plain
from afest.models import (
    AuditEntry,
    Certificate,
    Cohort,
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Evaluation,
    FeasibilityAnswer,
    Level,
    Organisation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolTutor,
    ReflectionSituation,
    RoleAssignment,
    Sequence,
    SequenceCompetence,
    Signature,
    SignedKind,
    User,
    UserSession,
    VaeBlockResult,
    VaeMilestone,
    VaePathway,
    utcnow,
)
from afest.proof import signatures
from afest.sequences import attachments

SEQUENCE_FIELDS = (*signatures.SEQUENCE_FIELDS, "amendment_reason")


def _names(session: Session, ids: set[int], model) -> dict[int, str]:
    if not ids:
        return {}
    column = model.full_name if model is User else model.name
    return dict(session.exec(select(model.id, column).where(model.id.in_(list(ids)))).all())


def _signatures(session: Session, kind: SignedKind, ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    if ids:
        for sig in session.exec(
            select(Signature)
            .where(Signature.subject_kind == kind, Signature.subject_id.in_(ids))
            .order_by(Signature.signed_at)
        ):
            found[sig.subject_id].append(
                {
                    "role": sig.signer_role,
                    "signed_at": sig.signed_at,
                    "content_hash": sig.content_hash,
                    "method": sig.method,
                    "signer_id": sig.signer_id,
                }
            )
    return found


def _protocols(session: Session, learner: User) -> list[dict[str, Any]]:
    protocols = list(
        session.exec(
            select(Protocol)
            .where(Protocol.learner_id == learner.id)
            .order_by(Protocol.planned_start, Protocol.id)
        )
    )
    ids = [p.id for p in protocols]
    if not ids:
        return []
    comps, plans, tutors = defaultdict(list), defaultdict(list), defaultdict(list)
    for pc in session.exec(
        select(ProtocolCompetence)
        .where(ProtocolCompetence.protocol_id.in_(ids))
        .order_by(ProtocolCompetence.position)
    ):
        comps[pc.protocol_id].append(
            {
                "block": f"{pc.block_code} — {pc.block_title}",
                "competence": f"{pc.competence_code} — {pc.competence_title}",
            }
        )
    for ps in session.exec(
        select(PlannedSequence)
        .where(PlannedSequence.protocol_id.in_(ids))
        .order_by(PlannedSequence.position)
    ):
        plans[ps.protocol_id].append(
            {"kind": ps.kind, "planned_on": ps.planned_on, "title": ps.title}
        )
    tutor_rows = list(session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id.in_(ids))))
    people = _names(session, {t.tutor_id for t in tutor_rows}, User)
    for t in tutor_rows:
        tutors[t.protocol_id].append(
            {
                "name": people.get(t.tutor_id, ""),
                "designated_at": t.designated_at,
                "ended_at": t.ended_at,
            }
        )
    orgs = _names(session, {p.structure_id for p in protocols}, Organisation)
    sequences = list(
        session.exec(
            select(Sequence)
            .where(Sequence.protocol_id.in_(ids))
            .order_by(Sequence.occurred_at, Sequence.id)
        )
    )
    seq_ids = [s.id for s in sequences]
    seq_comps: dict[int, list[str]] = defaultdict(list)
    analysed: dict[int, list[int]] = defaultdict(list)
    if seq_ids:
        for sid, code in session.exec(
            select(SequenceCompetence.sequence_id, Competence.code)
            .join(Competence, Competence.id == SequenceCompetence.competence_id)
            .where(SequenceCompetence.sequence_id.in_(seq_ids))
        ):
            seq_comps[sid].append(code)
        for rid, sid in session.exec(
            select(ReflectionSituation.reflection_id, ReflectionSituation.situation_id).where(
                ReflectionSituation.reflection_id.in_(seq_ids)
            )
        ):
            analysed[rid].append(sid)
    public = {s.id: s.public_id for s in sequences}
    seq_sigs = _signatures(session, SignedKind.SEQUENCE, seq_ids)
    files = attachments.of_sequences(session, seq_ids)
    by_protocol: dict[int, list[dict]] = defaultdict(list)
    for s in sequences:
        row = {name: getattr(s, name) for name in SEQUENCE_FIELDS}
        row.update(
            id=s.public_id,
            amends=public.get(s.amends_id) if s.amends_id else None,
            competences=sorted(seq_comps[s.id]),
            situations_analysed=[public.get(i) for i in analysed[s.id]],
            signatures=seq_sigs[s.id],
            attachments=[
                {
                    "filename": a.filename,
                    "media_type": a.media_type,
                    "size": a.size,
                    "sha256": a.sha256,
                }
                for a in files[s.id]
            ],
        )
        by_protocol[s.protocol_id].append(row)
    levels: dict[int, list[dict]] = defaultdict(list)
    for a, code, label in session.exec(
        select(CompetenceAssessment, Competence.code, Level.label)
        .join(Competence, Competence.id == CompetenceAssessment.competence_id)
        .join(Level, Level.id == CompetenceAssessment.level_id)
        .where(CompetenceAssessment.protocol_id.in_(ids))
        .order_by(CompetenceAssessment.assessed_at, CompetenceAssessment.id)
    ):
        levels[a.protocol_id].append(
            {
                "competence": code,
                "level": label,
                "source": a.source,
                "assessed_at": a.assessed_at,
                "comment": a.comment,
            }
        )
    evaluations = list(
        session.exec(
            select(Evaluation).where(Evaluation.protocol_id.in_(ids)).order_by(Evaluation.id)
        )
    )
    eval_sigs = _signatures(session, SignedKind.EVALUATION, [e.id for e in evaluations])
    evals: dict[int, list[dict]] = defaultdict(list)
    for e in evaluations:
        evals[e.protocol_id].append(
            {
                "id": e.public_id,
                "kind": e.kind,
                "evaluated_on": e.evaluated_on,
                "summary": e.summary,
                "signatures": eval_sigs[e.id],
            }
        )
    prot_sigs = _signatures(session, SignedKind.PROTOCOL, ids)
    certificates = _certificates(session, ids)
    return [
        {
            "id": p.public_id,
            "title": p.title,
            "status": p.status,
            "structure": orgs.get(p.structure_id, ""),
            "objective": p.objective,
            "activity_analysis": p.activity_analysis,
            "work_situations": p.work_situations,
            "planned_start": p.planned_start,
            "planned_end": p.planned_end,
            "planned_minutes": p.planned_minutes,
            "started_at": p.started_at,
            "ended_at": p.ended_at,
            "stop_reason": p.stop_reason,
            "tutors": tutors[p.id],
            "competences": comps[p.id],
            "plan": plans[p.id],
            "levels": levels[p.id],
            "sequences": by_protocol[p.id],
            "evaluations": evals[p.id],
            "signatures": prot_sigs[p.id],
            "certificates": certificates[p.id],
        }
        for p in protocols
    ]


def _certificates(session: Session, ids: list[int]) -> dict[int, list[dict]]:
    """The certificats de réalisation signed for the protocols, as they were signed."""
    rows = list(
        session.exec(
            select(Certificate)
            .where(Certificate.protocol_id.in_(ids))
            .order_by(Certificate.protocol_id, Certificate.id)
        )
    )
    signed = _signatures(session, SignedKind.CERTIFICATE, [c.id for c in rows])
    found: dict[int, list[dict]] = defaultdict(list)
    for c in rows:
        found[c.protocol_id].append(
            {
                "id": c.public_id,
                "first_day": c.first_day,
                "last_day": c.last_day,
                "minutes": c.minutes,
                "signatory_name": c.signatory_name,
                "signatory_role": c.signatory_role,
                "place": c.place,
                "signed_on": c.signed_on,
                "signatures": signed[c.id],
            }
        )
    return found


def _pathways(session: Session, learner: User) -> list[dict[str, Any]]:
    pathways = list(
        session.exec(
            select(VaePathway).where(VaePathway.learner_id == learner.id).order_by(VaePathway.id)
        )
    )
    ids = [p.id for p in pathways]
    if not ids:
        return []
    milestones, answers, results = defaultdict(list), defaultdict(list), defaultdict(list)
    for m, name in session.exec(
        select(VaeMilestone, User.full_name)
        .join(User, User.id == VaeMilestone.recorded_by_id)
        .where(VaeMilestone.pathway_id.in_(ids))
        .order_by(VaeMilestone.occurred_on, VaeMilestone.id)
    ):
        milestones[m.pathway_id].append(
            {
                "state": m.state,
                "occurred_on": m.occurred_on,
                "recorded_by": name,
                "recorded_at": m.recorded_at,
                "note": m.note,
                "reason": m.reason,
                "jury_date": m.jury_date,
                "jury_place": m.jury_place,
                "jury_result": m.jury_result,
            }
        )
    for a, code in session.exec(
        select(FeasibilityAnswer, Competence.code)
        .join(Competence, Competence.id == FeasibilityAnswer.competence_id)
        .where(FeasibilityAnswer.pathway_id.in_(ids))
    ):
        answers[a.pathway_id].append({"competence": code, "answer": a.answer, "note": a.note})
    for r, code in session.exec(
        select(VaeBlockResult, CompetenceBlock.code)
        .join(CompetenceBlock, CompetenceBlock.id == VaeBlockResult.block_id)
        .where(VaeBlockResult.pathway_id.in_(ids))
    ):
        results[r.pathway_id].append({"block": code, "outcome": r.outcome})
    consultants = _names(session, {p.consultant_id for p in pathways if p.consultant_id}, User)
    return [
        {
            "id": p.public_id,
            "state": p.state,
            "jury_result": p.jury_result,
            "consultant": consultants.get(p.consultant_id, ""),
            "milestones": milestones[p.id],
            "feasibility": answers[p.id],
            "block_results": results[p.id],
        }
        for p in pathways
    ]


def learner_data(session: Session, learner: User) -> dict[str, Any]:
    """Everything held about `learner`, as JSON-safe data."""
    roles = list(session.exec(select(RoleAssignment).where(RoleAssignment.user_id == learner.id)))
    orgs = _names(session, {r.organisation_id for r in roles if r.organisation_id}, Organisation)
    protocol_ids = select(Protocol.id).where(Protocol.learner_id == learner.id)
    cohorts = list(
        session.exec(
            select(Cohort.name).where(
                Cohort.id.in_(
                    select(Protocol.cohort_id).where(
                        Protocol.learner_id == learner.id, Protocol.cohort_id.is_not(None)
                    )
                )
            )
        )
    )
    sessions = list(
        session.exec(
            select(UserSession)
            .where(UserSession.user_id == learner.id)
            .order_by(UserSession.created_at)
        )
    )
    audit = list(
        session.exec(
            select(AuditEntry)
            .where(or_(AuditEntry.actor_id == learner.id, AuditEntry.protocol_id.in_(protocol_ids)))
            .order_by(AuditEntry.id)
        )
    )
    data = {
        "generated_at": utcnow(),
        "person": {
            "id": learner.public_id,
            "full_name": learner.full_name,
            "email": learner.email,
            "locale": learner.locale,
            "is_active": learner.is_active,
            "created_at": learner.created_at,
            "last_login_at": learner.last_login_at,
            "password_changed_at": learner.password_changed_at,
        },
        "roles": [{"role": r.role, "organisation": orgs.get(r.organisation_id, "")} for r in roles],
        "cohorts": cohorts,
        "login_sessions": [
            {
                "created_at": s.created_at,
                "last_seen_at": s.last_seen_at,
                "revoked_at": s.revoked_at,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ],
        "protocols": _protocols(session, learner),
        "vae_pathways": _pathways(session, learner),
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "subject": e.subject_kind,
                "by_me": e.actor_id == learner.id,
                "after": e.after,
            }
            for e in audit
        ],
    }
    return plain(data)
