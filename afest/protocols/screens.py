"""Helpers of the protocol screens: form choices within the manager's scope, form ↔ service
arguments, the levels posted for a positioning or an evaluation, the edit page, the protocol's
page."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import select

from afest import policy
from afest.assessments.forms import PositioningForm
from afest.core import clock
from afest.core.database import get_session
from afest.core.http import SIGNER_LABELS, render
from afest.models import (
    Competence,
    CompetenceBlock,
    IssuedCredential,
    Level,
    Organisation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    Referential,
    Role,
    RoleAssignment,
    SignedKind,
    SignerRole,
    User,
)
from afest.proof import certificates, signatures
from afest.protocols import compliance
from afest.protocols.forms import (
    PauseForm,
    PlanForm,
    ProtocolForm,
    ResumeForm,
    SignForm,
    StopForm,
)
from afest.protocols.queries import latest_levels, pause_history, protocol_view
from afest.referentials import queries as referential_queries

# The policy predicates a checklist's "fix it here" link may need (compliance.Fix.require).
FIX_RULES = ("can_use_tablet", "can_edit_draft", "can_evaluate")


def __init__(self, message: str):
    super().__init__(message)
    self.message = message


def _people(actor, role: Role) -> list[tuple[int, str]]:
    rows = get_session().exec(
        select(User.id, User.full_name)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role == role,
            RoleAssignment.organisation_id.in_(actor.orgs(Role.MANAGER)),
            User.is_active.is_(True),
        )
        .distinct()
        .order_by(User.full_name)
    )
    return [(uid, name) for uid, name in rows]


def fill_choices(form: ProtocolForm, actor, referential_id: int | None) -> None:
    """Learners, tutors and référentiels of the manager's structures; the chosen référentiel's
    competences."""
    db = get_session()
    form.learner.choices = _people(actor, Role.LEARNER)
    form.tutors.choices = _people(actor, Role.TUTOR)
    # the newest version of each référentiel, and the one the draft targets if older
    kept = [i for i in (referential_id, form.referential.data) if isinstance(i, int)]
    refs = db.exec(
        select(Referential.id, Referential.code, Referential.title, Referential.version)
        .where(
            policy.referential_visible(actor),
            or_(referential_queries.newest_version(), Referential.id.in_(kept)),
        )
        .order_by(Referential.code, Referential.version)
    ).all()
    form.referential.choices = [
        (r.id, referential_queries.label(r.code, r.title, r.version)) for r in refs
    ]
    ids = [r.id for r in refs]
    if referential_id in ids:
        chosen = referential_id
    elif form.referential.data in ids:
        chosen = form.referential.data
    else:
        chosen = ids[0] if ids else None
    form.referential.data = chosen
    rows = db.exec(
        select(Competence.id, Competence.code, Competence.title, CompetenceBlock.code)
        .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
        .where(CompetenceBlock.referential_id == chosen)
        .order_by(CompetenceBlock.position, Competence.position)
    ).all()
    form.competences.choices = [
        (cid, f"{bcode} · {code} — {title}") for cid, code, title, bcode in rows
    ]


def create_args(form: ProtocolForm, actor) -> dict:
    db = get_session()
    learner = db.get(User, form.learner.data)
    structure_id = db.exec(
        select(RoleAssignment.organisation_id).where(
            RoleAssignment.user_id == learner.id,
            RoleAssignment.role == Role.LEARNER,
            RoleAssignment.organisation_id.in_(actor.orgs(Role.MANAGER)),
        )
    ).first()
    return {
        "learner": learner,
        "structure": db.get(Organisation, structure_id),
        "referential_id": form.referential.data,
        "title": form.title.data,
        "objective": form.objective.data or "",
        "activity_analysis": form.activity_analysis.data or "",
        "work_situations": form.work_situations.data or "",
        "planned_start": form.planned_start.data,
        "planned_end": form.planned_end.data,
        "planned_minutes": (form.planned_hours.data or 0) * 60,
        "competence_ids": form.competences.data or [],
        "tutor_ids": form.tutors.data or [],
    }


def form_of(db, protocol: Protocol) -> ProtocolForm:
    form = ProtocolForm(formdata=None)
    form.learner.data = protocol.learner_id
    form.referential.data = protocol.referential_id
    form.title.data = protocol.title
    form.objective.data = protocol.objective
    form.activity_analysis.data = protocol.activity_analysis
    form.work_situations.data = protocol.work_situations
    form.planned_start.data = protocol.planned_start
    form.planned_end.data = protocol.planned_end
    form.planned_hours.data = protocol.planned_minutes // 60
    form.tutors.data = [t.tutor_id for t in protocol.tutors]
    form.competences.data = list(
        db.exec(
            select(ProtocolCompetence.competence_id).where(
                ProtocolCompetence.protocol_id == protocol.id
            )
        )
    )
    return form


def scope_and_scale(db, protocol: Protocol):
    """Targeted competences (snapshot order) and the référentiel's level scale."""
    scope = db.exec(
        select(ProtocolCompetence)
        .where(ProtocolCompetence.protocol_id == protocol.id)
        .order_by(ProtocolCompetence.position)
    ).all()
    scale = db.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).all()
    return scope, scale


def render_edit(
    protocol: Protocol,
    form: ProtocolForm | None = None,
    *,
    plan_form: PlanForm | None = None,
    positioning_form: PositioningForm | None = None,
    status: int = 200,
):
    """The draft's page: its form (by default filled with the draft as it stands), its plan,
    its initial positioning; a plan or positioning posted in vain, back with its messages."""
    db = get_session()
    if form is None:
        form = form_of(db, protocol)
    positioning_error = None
    if positioning_form is not None:
        positioning_error = " ".join(map(str, positioning_form.form_errors))
    scope, scale = scope_and_scale(db, protocol)
    plan = db.exec(
        select(PlannedSequence)
        .where(PlannedSequence.protocol_id == protocol.id)
        .order_by(PlannedSequence.position)
    ).all()
    return render(
        "protocols/edit.html",
        form=form,
        protocol=protocol,
        plan=plan,
        plan_form=plan_form or PlanForm(formdata=None),
        scope=scope,
        scale=scale,
        initial={cid: lv.id for cid, lv in latest_levels(db, protocol.id, initial=True).items()},
        positioning_error=positioning_error,
        status=status,
    )


def protocol_signatures(protocol: Protocol):
    return signatures.signatures_of(get_session(), SignedKind.PROTOCOL, protocol.id)


def sign_roles(actor, protocol: Protocol, signed: set[str]) -> list[tuple[str, str]]:
    """The roles in which the actor may still sign the protocol now (`signed`: roles done)."""
    if not policy.can_sign_protocol(actor, protocol):
        return []
    allowed = []
    if actor.id == protocol.learner_id:
        allowed.append(SignerRole.LEARNER)
    if policy.is_designated_tutor(actor, protocol):
        allowed.append(SignerRole.TUTOR)
    if policy.manages(actor, protocol.structure_id):
        allowed.append(SignerRole.STRUCTURE)
    return [(str(r), str(SIGNER_LABELS[r])) for r in allowed if str(r) not in signed]


def _permissions(actor, protocol: Protocol) -> dict:
    """What the actor may do on the protocol's page, each control shown only if allowed."""
    return {
        "allowed": {name: getattr(policy, name)(actor, protocol) for name in FIX_RULES},
        "can_edit": policy.can_edit_draft(actor, protocol),
        "can_manage": policy.manages(actor, protocol.structure_id),
        "can_export": policy.can_export_proof_pack(actor, protocol),
        "can_sign_certificate": policy.can_sign_certificate(actor, protocol),
        "can_evaluate": policy.can_evaluate(actor, protocol),
        "can_pause": policy.can_pause_protocol(actor, protocol),
        "sees_pause_reason": policy.can_read_pause_reason(actor, protocol),
    }


def _forms(sign_roles_: list, forms: dict) -> dict:
    """The page's forms: a form posted in vain comes back with its messages, others blank."""
    sign_form = forms.get("sign_form") or SignForm(formdata=None)
    sign_form.role.choices = sign_roles_
    return {
        "sign_form": sign_form,
        "stop_form": forms.get("stop_form") or StopForm(formdata=None),
        "pause_form": forms.get("pause_form") or PauseForm(formdata=None),
        "resume_form": forms.get("resume_form") or ResumeForm(formdata=None),
    }


def _badges(db, protocol: Protocol, actor) -> list:
    """The badges issued from this protocol, for those who may revoke them."""
    if not (policy.manages(actor, protocol.structure_id) or actor.has(Role.ADMIN)):
        return []
    return list(
        db.exec(
            select(IssuedCredential)
            .where(
                IssuedCredential.source_kind == "protocol",
                IssuedCredential.source_id == protocol.id,
            )
            .order_by(IssuedCredential.issued_at)
        )
    )


def render_show(
    protocol: Protocol, actor, *, settings: compliance.Settings, status: int = 200, **forms
):
    """A protocol's page: parties, scope, sequences, evaluations, signatures, pauses; the
    checklist for the manager and the tutors; the controls the actor may use."""
    db = get_session()
    view = protocol_view(db, protocol)
    roles = sign_roles(actor, protocol, view.signed_roles("protocol", protocol.id))
    checked = policy.can_view_compliance(actor, protocol)
    pauses = pause_history(db, protocol.id)
    permissions = _permissions(actor, protocol)
    sees_certificate = permissions["can_export"] or permissions["can_sign_certificate"]
    newer = referential_queries.newer_version(db, protocol.referential)
    return render(
        "protocols/show.html",
        view=view,
        pauses=pauses,
        open_pause=next((line for line in pauses if line.pause.resumed_at is None), None),
        checklist=compliance.check(db, protocol, settings=settings) if checked else None,
        CHECK_LABELS=compliance.STATE_LABELS,
        sign_roles=roles,
        certificate=certificates.state(db, protocol, view, zone=clock.zone())
        if sees_certificate
        else None,
        badges=_badges(db, protocol, actor),
        # read whoever asks (the page's queries do not depend on its status), shown to editors
        newer_referential=newer if permissions["can_edit"] else None,
        status=status,
        **permissions,
        **_forms(roles, forms),
    )
