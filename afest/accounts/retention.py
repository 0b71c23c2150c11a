"""Retention (GDPR): what is past its period is deleted or anonymised by `flask afest purge`.

Categories and periods come from the settings:
- RETENTION_SESSION_DAYS: login sessions ended (revoked or idle) longer ago are deleted, and
  so are the e-mailed links (invitations, resets) used or expired longer ago;
- RETENTION_PROOF_YEARS: protocols completed or stopped, and VAE pathways certified or
  abandoned, longer ago are deleted with everything that proves them (sequences,
  evaluations, signatures, their audit entries). The proof must be kept 3 to 6 years;
- RETENTION_ACCOUNT_YEARS: deactivated accounts unused that long, and no longer holding
  any record as a learner, are anonymised (name, e-mail, secrets, roles, the e-mails sent to
  them), so that what they signed in other records stays verifiable;
- RETENTION_MAIL_DAYS: e-mails sent (or kept, or failed) longer ago have their bodies
  emptied (afest.mail.retention).

Signatures and audit entries are append-only: the purge opens a purge window (a row in
`purgewindow`, inside its own transaction, with a token drawn for this run that the
connection presents as well: afest.models.retention) through which the database triggers let
DELETE pass; UPDATE is never allowed. A row inserted in `purgewindow` by anything else opens
nothing.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlmodel import Session, SQLModel, delete, select, update

from afest.accounts import operations as accounts
from afest.core import audit
from afest.mail import retention as mail_retention
from afest.models import (
    AccountToken,
    AuditEntry,
    Certificate,
    Evaluation,
    FeasibilityAnswer,
    Protocol,
    ProtocolStatus,
    PurgeWindow,
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
    VaeState,
)
from afest.models.retention import present_token
from afest.proof import checkpoints
from afest.sequences import attachments

log = logging.getLogger(__name__)

ANONYMOUS_NAME = "Compte anonymisé"
# Deleted last, in this order, once every table that points to them has been emptied.
PROTOCOL_OWNED = (
    "sequence",
    "evaluation",
    "protocoltutor",
    "protocolcompetence",
    "plannedsequence",
)


@dataclass
class PurgePlan:
    sessions: int = 0
    links: int = 0
    protocol_ids: list[int] = field(default_factory=list)
    pathway_ids: list[int] = field(default_factory=list)
    account_ids: list[int] = field(default_factory=list)
    mail_bodies: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "sessions": self.sessions,
            "links": self.links,
            "protocols": len(self.protocol_ids),
            "vae_pathways": len(self.pathway_ids),
            "accounts": len(self.account_ids),
            "mail_bodies": self.mail_bodies,
        }


def _cutoffs(settings, now: datetime) -> tuple[datetime, datetime, datetime]:
    return (
        now - timedelta(days=settings["RETENTION_SESSION_DAYS"]),
        now - timedelta(days=365 * settings["RETENTION_PROOF_YEARS"]),
        now - timedelta(days=365 * settings["RETENTION_ACCOUNT_YEARS"]),
    )


def _ended_sessions(cutoff: datetime):
    return sa.or_(UserSession.revoked_at < cutoff, UserSession.last_seen_at < cutoff)


def _ended_links(cutoff: datetime):
    return sa.or_(AccountToken.used_at < cutoff, AccountToken.expires_at < cutoff)


def plan(session: Session, *, settings, now: datetime) -> PurgePlan:
    """What a purge at `now` would remove, without removing anything."""
    session_cut, proof_cut, account_cut = _cutoffs(settings, now)
    result = PurgePlan()
    result.sessions = session.exec(
        select(sa.func.count()).select_from(UserSession).where(_ended_sessions(session_cut))
    ).one()
    result.links = session.exec(
        select(sa.func.count()).select_from(AccountToken).where(_ended_links(session_cut))
    ).one()
    result.protocol_ids = list(
        session.exec(
            select(Protocol.id)
            .where(
                Protocol.status.in_([ProtocolStatus.COMPLETED, ProtocolStatus.STOPPED]),
                Protocol.ended_at < proof_cut,
            )
            .order_by(Protocol.id)
        )
    )
    last_step = (
        select(VaeMilestone.pathway_id, sa.func.max(VaeMilestone.occurred_on).label("last_on"))
        .group_by(VaeMilestone.pathway_id)
        .subquery()
    )
    result.pathway_ids = list(
        session.exec(
            select(VaePathway.id)
            .join(last_step, last_step.c.pathway_id == VaePathway.id)
            .where(
                VaePathway.state.in_([VaeState.CERTIFICATION, VaeState.ABANDON]),
                last_step.c.last_on < proof_cut.date(),
            )
            .order_by(VaePathway.id)
        )
    )
    still_learner = sa.or_(
        sa.exists().where(
            Protocol.learner_id == User.id, Protocol.id.not_in(result.protocol_ids or [0])
        ),
        sa.exists().where(
            VaePathway.learner_id == User.id, VaePathway.id.not_in(result.pathway_ids or [0])
        ),
    )
    result.account_ids = list(
        session.exec(
            select(User.id)
            .where(
                User.is_active.is_(False),
                User.full_name != ANONYMOUS_NAME,
                sa.func.coalesce(User.last_login_at, User.created_at) < account_cut,
                ~still_learner,
            )
            .order_by(User.id)
        )
    )
    result.mail_bodies = mail_retention.count_past(session, settings=settings, now=now)
    return result


def _tables_pointing_to(target: str, skip: set[str]) -> list[tuple[sa.Table, sa.Column]]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in skip:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == target:
                found.append((table, fk.parent))
    return found


def _delete_protocols(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    sequence_ids = select(Sequence.id).where(Sequence.protocol_id.in_(ids))
    evaluation_ids = select(Evaluation.id).where(Evaluation.protocol_id.in_(ids))
    certificate_ids = select(Certificate.id).where(Certificate.protocol_id.in_(ids))
    attachments.forget(session, sequence_ids)
    session.exec(delete(SequenceCompetence).where(SequenceCompetence.sequence_id.in_(sequence_ids)))
    session.exec(
        delete(ReflectionSituation).where(ReflectionSituation.reflection_id.in_(sequence_ids))
    )
    session.exec(
        delete(Signature).where(
            sa.or_(
                (Signature.subject_kind == SignedKind.PROTOCOL) & Signature.subject_id.in_(ids),
                (Signature.subject_kind == SignedKind.SEQUENCE)
                & Signature.subject_id.in_(sequence_ids),
                (Signature.subject_kind == SignedKind.EVALUATION)
                & Signature.subject_id.in_(evaluation_ids),
                (Signature.subject_kind == SignedKind.CERTIFICATE)
                & Signature.subject_id.in_(certificate_ids),
            )
        )
    )
    session.exec(delete(AuditEntry).where(AuditEntry.protocol_id.in_(ids)))
    # Every other table pointing to a protocol (assessments, rollup facts, ...).
    skip = {"protocol", *PROTOCOL_OWNED}
    for table, column in _tables_pointing_to("protocol", skip):
        session.exec(sa.delete(table).where(column.in_(ids)))
    for name in PROTOCOL_OWNED:
        table = SQLModel.metadata.tables[name]
        session.exec(sa.delete(table).where(table.c.protocol_id.in_(ids)))
    session.exec(delete(Protocol).where(Protocol.id.in_(ids)))


def _delete_pathways(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    session.exec(delete(FeasibilityAnswer).where(FeasibilityAnswer.pathway_id.in_(ids)))
    session.exec(delete(VaeBlockResult).where(VaeBlockResult.pathway_id.in_(ids)))
    skip = {"vaepathway", "vaemilestone", "feasibilityanswer", "vaeblockresult"}
    for table, column in _tables_pointing_to("vaepathway", skip):
        session.exec(sa.delete(table).where(column.in_(ids)))
    session.exec(delete(VaeMilestone).where(VaeMilestone.pathway_id.in_(ids)))
    session.exec(
        delete(AuditEntry).where(AuditEntry.subject_kind == "vae", AuditEntry.subject_id.in_(ids))
    )
    session.exec(delete(VaePathway).where(VaePathway.id.in_(ids)))


def _anonymise(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    session.exec(delete(RoleAssignment).where(RoleAssignment.user_id.in_(ids)))
    session.exec(delete(UserSession).where(UserSession.user_id.in_(ids)))
    session.exec(delete(AccountToken).where(AccountToken.user_id.in_(ids)))
    mail_retention.forget_accounts(session, ids)
    for user_id in ids:
        session.exec(
            update(User)
            .where(User.id == user_id)
            .values(
                full_name=ANONYMOUS_NAME,
                email=f"anonyme-{secrets.token_hex(8)}@afest.invalid",
                password_hash=accounts.hash_secret(secrets.token_urlsafe(32)),
                pin_hash=None,
                locale=None,
            )
        )


def purge(session: Session, *, settings, now: datetime) -> PurgePlan:
    """Remove what is past retention, in the caller's transaction; returns what was removed."""
    todo = plan(session, settings=settings, now=now)
    session_cut, _proof, _account = _cutoffs(settings, now)
    token = secrets.token_hex(32)
    window = PurgeWindow(opened_at=now, token=token)
    session.add(window)
    session.flush()
    present_token(session.connection(), token)
    try:
        session.exec(delete(UserSession).where(_ended_sessions(session_cut)))
        session.exec(delete(AccountToken).where(_ended_links(session_cut)))
        _delete_protocols(session, todo.protocol_ids)
        _delete_pathways(session, todo.pathway_ids)
        _anonymise(session, todo.account_ids)
        mail_retention.empty_bodies(session, settings=settings, now=now)
        session.exec(delete(PurgeWindow).where(PurgeWindow.id == window.id))
        session.flush()
    finally:
        present_token(session.connection(), None)
    _refresh_rollups(session)
    audit.record(
        session,
        actor_id=None,
        action="retention.purge",
        subject_kind="system",
        subject_id=None,
        after=todo.summary(),
    )
    if todo.protocol_ids:
        _checkpoint_once_committed(session, [checkpoints.chain_name(i) for i in todo.protocol_ids])
    return todo


def _checkpoint_once_committed(session: Session, removed: list[str]) -> None:
    """Once the caller has committed the purge, the heads of the chains are checkpointed
    again, the purged protocols' chains left out: else `verify` would report them missing
    against the checkpoint written before. Only where checkpoints are kept already (the
    nightly job writes the first one); a checkpoint refused is logged as an error."""
    if not has_app_context():
        return
    store = checkpoints.Store.of(current_app)
    if not store.path.exists():
        return
    bind = session.get_bind()

    def write(_session: Session) -> None:
        with Session(bind=bind, join_transaction_mode="create_savepoint") as fresh:
            try:
                checkpoints.write(fresh, store, removed=removed)
            except checkpoints.CheckpointRefused as exc:
                for problem in exc.problems:
                    log.error("checkpoint after the purge refused: %s", problem)

    sa.event.listen(session, "after_commit", write, once=True)


def _refresh_rollups(session: Session) -> None:
    """Dashboards count what exists: rebuild their rollups after records were removed."""
    try:
        from afest.dashboards import rollups
    except ImportError:  # pragma: no cover - rollups are part of the app
        return
    rollups.rebuild(session)
