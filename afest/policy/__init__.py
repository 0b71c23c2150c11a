"""Every "who may see / do what on which object" rule of afest, in one place.

Visibility rules are SQL conditions, so that lists are filtered by the database and a single
object outside the actor's scope is simply not found (404, no existence leak). Permission
rules on an object already visible are plain predicates (403 when they fail).
"""

from __future__ import annotations

from typing import Protocol as TypingProtocol

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from afest.models import (
    ApiToken,
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    OrgKind,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Referential,
    ReferentialKind,
    Role,
    Upload,
    User,
    VaePathway,
)


class ActorLike(TypingProtocol):
    id: int

    def has(self, *roles: Role) -> bool: ...

    def orgs(self, role: Role) -> frozenset[int]: ...


# --- visibility (SQL) ---------------------------------------------------------------------


def _followed_cohorts(actor: ActorLike):
    return select(CohortConsultant.cohort_id).where(CohortConsultant.user_id == actor.id)


def protocol_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Protocols the actor may read: own (learner), designated (tutor), structure (manager),
    funded (OPCO), followed cohort (consultant). Administrators manage référentiels and
    accounts, not learners' records."""
    clauses = []
    if actor.has(Role.LEARNER):
        clauses.append(Protocol.learner_id == actor.id)
    if actor.has(Role.TUTOR):
        clauses.append(
            Protocol.id.in_(
                select(ProtocolTutor.protocol_id).where(
                    ProtocolTutor.tutor_id == actor.id, ProtocolTutor.ended_at.is_(None)
                )
            )
        )
    if actor.has(Role.MANAGER):
        clauses.append(Protocol.structure_id.in_(actor.orgs(Role.MANAGER)))
    if actor.has(Role.OPCO):
        clauses.append(Protocol.funder_id.in_(actor.orgs(Role.OPCO)))
    if actor.has(Role.CONSULTANT):
        clauses.append(Protocol.cohort_id.in_(_followed_cohorts(actor)))
    return or_(*clauses) if clauses else false()


def structure_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Structures the actor may look into: managed, funded by their OPCO, or in a followed
    cohort. Administrators see every organisation (they manage them)."""
    if actor.has(Role.ADMIN):
        return true()
    clauses = []
    if actor.has(Role.MANAGER):
        clauses.append(Organisation.id.in_(actor.orgs(Role.MANAGER)))
    if actor.has(Role.OPCO):
        clauses.append(Organisation.opco_id.in_(actor.orgs(Role.OPCO)))
    if actor.has(Role.CONSULTANT):
        clauses.append(
            Organisation.id.in_(
                select(CohortStructure.structure_id).where(
                    CohortStructure.cohort_id.in_(_followed_cohorts(actor))
                )
            )
        )
    return and_(Organisation.kind == "structure", or_(*clauses)) if clauses else false()


def vae_visible(actor: ActorLike) -> ColumnElement[bool]:
    """VAE pathways the actor may read: own (learner), accompanied or in a followed cohort
    (consultant), of a managed structure (manager). Nobody else: tutors, OPCO and
    administrators do not read VAE files."""
    clauses = []
    if actor.has(Role.LEARNER):
        clauses.append(VaePathway.learner_id == actor.id)
    if actor.has(Role.CONSULTANT):
        clauses.append(VaePathway.consultant_id == actor.id)
        clauses.append(VaePathway.cohort_id.in_(_followed_cohorts(actor)))
    if actor.has(Role.MANAGER):
        clauses.append(VaePathway.structure_id.in_(actor.orgs(Role.MANAGER)))
    return or_(*clauses) if clauses else false()


def referential_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Administrators see every référentiel; managers the national ones and their own."""
    if actor.has(Role.ADMIN):
        return true()
    if actor.has(Role.MANAGER):
        return or_(
            Referential.owner_structure_id.is_(None),
            Referential.owner_structure_id.in_(actor.orgs(Role.MANAGER)),
        )
    return false()


# --- permissions on a visible object ------------------------------------------------------


def is_designated_tutor(actor: ActorLike, protocol: Protocol) -> bool:
    return actor.has(Role.TUTOR) and _designated(actor, protocol)


def _designated(actor: ActorLike, protocol: Protocol) -> bool:
    """The actor is a current designated tutor of the protocol (from its loaded tutors)."""
    return any(t.tutor_id == actor.id and t.ended_at is None for t in protocol.tutors)


def manages(actor: ActorLike, structure_id: int) -> bool:
    return actor.has(Role.MANAGER) and structure_id in actor.orgs(Role.MANAGER)


def can_view_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """Anything that passed protocol_visible; kept as a predicate for `require=`."""
    return True


def can_log_sequence(actor: ActorLike, protocol: Protocol) -> bool:
    """A designated tutor logs sequences on a protocol in progress."""
    return (
        actor.has(Role.TUTOR)
        and _designated(actor, protocol)
        and protocol.status == ProtocolStatus.IN_PROGRESS
    )


def can_use_tablet(actor: ActorLike, protocol: Protocol) -> bool:
    """The tutor's tablet page of a learner: only their designated tutor(s)."""
    return is_designated_tutor(actor, protocol)


def can_sign_sequence(actor: ActorLike, protocol: Protocol) -> bool:
    """The designated tutor signs (and corrects) sequences while the protocol is in progress."""
    return can_log_sequence(actor, protocol)


def can_countersign_sequence(actor: ActorLike, protocol: Protocol) -> bool:
    """The learner countersigns from their own account, or on their tutor's tablet."""
    return protocol.learner_id == actor.id or is_designated_tutor(actor, protocol)


def can_export_proof_pack(actor: ActorLike, protocol: Protocol) -> bool:
    """The structure's manager, and the OPCO funding the protocol, download its proof pack."""
    return manages(actor, protocol.structure_id) or (
        actor.has(Role.OPCO) and protocol.funder_id in actor.orgs(Role.OPCO)
    )


def can_manage_costs(actor: ActorLike, protocol: Protocol) -> bool:
    """A protocol's costs and its statement of expenses on screen: the structure's manager
    (the OPCO reads the statement in the proof pack)."""
    return manages(actor, protocol.structure_id)


CERTIFIABLE = (ProtocolStatus.IN_PROGRESS, ProtocolStatus.COMPLETED, ProtocolStatus.STOPPED)


def can_sign_certificate(actor: ActorLike, protocol: Protocol) -> bool:
    """The certificat de réalisation is signed by the dispensateur's signatory: in an in-house
    AFEST, the structure's manager, once training has started (and after it is over)."""
    return manages(actor, protocol.structure_id) and protocol.status in CERTIFIABLE


def can_view_compliance(actor: ActorLike, protocol: Protocol) -> bool:
    """The checklist of the four conditions is for the manager and the designated tutors."""
    return manages(actor, protocol.structure_id) or is_designated_tutor(actor, protocol)


def can_edit_draft(actor: ActorLike, protocol: Protocol) -> bool:
    """Only a draft is rewritten; once submitted it is signed as it stands, or stopped."""
    return manages(actor, protocol.structure_id) and protocol.status == ProtocolStatus.DRAFT


def can_sign_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """The three parties sign a protocol awaiting signatures: learner, tutor, structure."""
    return protocol.status == ProtocolStatus.AWAITING_SIGNATURES and (
        actor.id == protocol.learner_id
        or is_designated_tutor(actor, protocol)
        or manages(actor, protocol.structure_id)
    )


def can_close_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """The manager completes or stops a protocol that is not over yet."""
    return manages(actor, protocol.structure_id) and protocol.status in (
        ProtocolStatus.DRAFT,
        ProtocolStatus.AWAITING_SIGNATURES,
        ProtocolStatus.IN_PROGRESS,
    )


def can_pause_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """The structure's manager pauses a protocol in progress, and resumes it."""
    return manages(actor, protocol.structure_id) and protocol.status == ProtocolStatus.IN_PROGRESS


def can_read_pause_reason(actor: ActorLike, protocol: Protocol) -> bool:
    """Why a protocol was paused (often a health matter) is for its parties: the learner,
    her designated tutors, the structure's manager. Others in scope see the dates only."""
    return (
        actor.id == protocol.learner_id
        or is_designated_tutor(actor, protocol)
        or manages(actor, protocol.structure_id)
    )


def can_evaluate(actor: ActorLike, protocol: Protocol) -> bool:
    """A designated tutor evaluates the competences of a protocol in progress."""
    return is_designated_tutor(actor, protocol) and protocol.status == ProtocolStatus.IN_PROGRESS


def can_sign_evaluation(actor: ActorLike, protocol: Protocol) -> bool:
    """The designated tutor signs an evaluation, the learner countersigns it."""
    return is_designated_tutor(actor, protocol) or actor.id == protocol.learner_id


def can_list_referentials(actor: ActorLike) -> bool:
    return actor.has(Role.ADMIN, Role.MANAGER)


def can_import_referentials(actor: ActorLike) -> bool:
    """National référentiels (RNCP fiches, France compétences tables) are the admin's."""
    return actor.has(Role.ADMIN)


def can_view_referential(actor: ActorLike, referential: Referential) -> bool:
    return True


def can_edit_referential(actor: ActorLike, referential: Referential) -> bool:
    """A structure's own référentiel: its managers and the administrators edit it."""
    if referential.kind != ReferentialKind.STRUCTURE:
        return False
    if actor.has(Role.ADMIN):
        return True
    return referential.owner_structure_id is not None and manages(
        actor, referential.owner_structure_id
    )


def can_manage_accounts(actor: ActorLike) -> bool:
    return actor.has(Role.ADMIN)


def can_list_people(actor: ActorLike) -> bool:
    """Who runs the people of some structure: managers, and the admin."""
    return actor.has(Role.ADMIN, Role.MANAGER)


def can_manage_people(actor: ActorLike, structure_id: int) -> bool:
    """A structure's people (invite, roles, deactivate, replace a tutor): its managers, and
    the admin for every structure."""
    return actor.has(Role.ADMIN) or manages(actor, structure_id)


def can_choose_pin(actor: ActorLike) -> bool:
    """A tutor signs on the shared tablet with a PIN of her own choosing."""
    return actor.has(Role.TUTOR)


CALENDAR_ROLES = (Role.LEARNER, Role.TUTOR)


def can_have_calendar(actor: ActorLike) -> bool:
    """A private calendar of planned sequences, reflexive deadlines and evaluations: tutors
    and learners, whose protocols have dates."""
    return actor.has(*CALENDAR_ROLES)


def can_deactivate(actor: ActorLike, user: User) -> bool:
    return can_manage_accounts(actor) and user.id != actor.id


def can_view_outbox(actor: ActorLike) -> bool:
    """The e-mails afest sent or keeps (their bodies hold people's links): the admin reads
    them, re-sends them, marks them sent, and sends herself a test message."""
    return actor.has(Role.ADMIN)


def can_view_vae(actor: ActorLike, pathway: VaePathway) -> bool:
    """Anything that passed vae_visible."""
    return True


def can_record_vae_milestone(actor: ActorLike, pathway: VaePathway) -> bool:
    """The consultant who accompanies the learner, or a manager of the structure."""
    return (actor.has(Role.CONSULTANT) and pathway.consultant_id == actor.id) or manages(
        actor, pathway.structure_id
    )


def can_edit_feasibility(actor: ActorLike, pathway: VaePathway) -> bool:
    """The learner writes their own self-assessment; those who record milestones help."""
    return (actor.has(Role.LEARNER) and pathway.learner_id == actor.id) or can_record_vae_milestone(
        actor, pathway
    )


def can_view_learner_record(actor: ActorLike, learner: User) -> bool:
    """A learner's own progress and personal data export: the learner alone."""
    return actor.has(Role.LEARNER) and learner.id == actor.id


def can_view_credential(actor: ActorLike, credential) -> bool:
    """An issued badge: its learner, the managers of the structure that issued it, the
    administrators (who may revoke it, as those managers may)."""
    return (actor.has(Role.LEARNER) and credential.learner_id == actor.id) or can_revoke_credential(
        actor, credential
    )


def can_revoke_credential(actor: ActorLike, credential) -> bool:
    """A fraud found: the issuing structure's managers, or an administrator, revoke it."""
    return actor.has(Role.ADMIN) or manages(actor, credential.issuer_id)


# --- organisations -----------------------------------------------------------------------


def can_manage_organisations(actor: ActorLike) -> bool:
    """OPCOs, support bodies, structures and cohorts are created, edited and imported by the
    administrators, who also add and remove the members of OPCOs (their advisers) and of
    support bodies (their consultants); nobody else sees these screens: a list or a blank
    form answers 403, as every administrator's screen does, and an organisation's, a
    member's, a cohort's or a kept file's page 404 (no existence leak)."""
    return actor.has(Role.ADMIN)


def upload_visible(actor: ActorLike) -> ColumnElement[bool]:
    """A file sent to import, awaiting its confirmation, is its sender's alone."""
    return Upload.owner_id == actor.id


# --- dashboards --------------------------------------------------------------------------


def cohort_followed(actor: ActorLike) -> ColumnElement[bool]:
    """Cohorts whose dashboard the actor may read: those they follow as a consultant."""
    if not actor.has(Role.CONSULTANT):
        return false()
    return Cohort.id.in_(_followed_cohorts(actor))


def structure_dashboard_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Structures whose drill-down the actor may read: structure_visible without the
    administrator's organisation management (they do not read learners' figures)."""
    clauses = []
    if actor.has(Role.MANAGER):
        clauses.append(Organisation.id.in_(actor.orgs(Role.MANAGER)))
    if actor.has(Role.OPCO):
        clauses.append(Organisation.opco_id.in_(actor.orgs(Role.OPCO)))
    if actor.has(Role.CONSULTANT):
        clauses.append(
            Organisation.id.in_(
                select(CohortStructure.structure_id).where(
                    CohortStructure.cohort_id.in_(_followed_cohorts(actor))
                )
            )
        )
    return and_(Organisation.kind == "structure", or_(*clauses)) if clauses else false()


def can_view_opco_dashboard(actor: ActorLike) -> bool:
    return actor.has(Role.OPCO) and bool(actor.orgs(Role.OPCO))


def sees_learner_records(actor: ActorLike, structure_id: int) -> bool:
    """Entitled to the individual records of a structure's learners (their employer's
    manager): cross-structure figures about fewer than k learners are hidden from others."""
    return manages(actor, structure_id)


def learner_records_of(actor: ActorLike) -> frozenset[int]:
    """The structures whose learners' records the actor is entitled to (sees_learner_records
    of each), decided once: a dashboard asks it of every structure row."""
    return actor.orgs(Role.MANAGER) if actor.has(Role.MANAGER) else frozenset()


def followed_cohort_ids(actor: ActorLike):
    """SQL select of the ids of the cohorts the actor follows."""
    return _followed_cohorts(actor)


# --- API tokens --------------------------------------------------------------------------


def can_manage_api_tokens(actor: ActorLike) -> bool:
    """Tokens of the read-only API: the administrators, for every OPCO and structure; an
    OPCO's advisers, for their OPCO."""
    return actor.has(Role.ADMIN) or bool(actor.has(Role.OPCO) and actor.orgs(Role.OPCO))


def api_token_visible(actor: ActorLike) -> ColumnElement[bool]:
    """The tokens listed to the actor, and those she may revoke: every one (admin), her
    OPCO's (adviser)."""
    if actor.has(Role.ADMIN):
        return true()
    if actor.has(Role.OPCO):
        return ApiToken.organisation_id.in_(actor.orgs(Role.OPCO))
    return false()


def api_token_organisations(actor: ActorLike) -> ColumnElement[bool]:
    """The organisations the actor may create a token for: every OPCO and structure (admin),
    her own OPCO (adviser)."""
    if actor.has(Role.ADMIN):
        return Organisation.kind.in_((OrgKind.OPCO, OrgKind.STRUCTURE))
    if actor.has(Role.OPCO):
        return and_(Organisation.kind == OrgKind.OPCO, Organisation.id.in_(actor.orgs(Role.OPCO)))
    return false()
