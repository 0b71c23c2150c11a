"""Organisations: create and edit OPCOs, support bodies, structures and cohorts.

Every change is audited, and a change that moves what protocols or VAE pathways add to the
dashboards keeps them true (the rollups then equal a rebuild):

- a structure's département or OPCO: its protocols are marked and its VAE pathways
  refreshed (a protocol's facts read the structure's département, a pathway's its
  département and OPCO);
- a structure's OPCO: its drafts take the new OPCO as their funder. A protocol sent for
  signature keeps the funder it names: the funder is part of the signed content, and a
  training already engaged stays with the OPCO that engaged it;
- a structure leaving a cohort: its drafts in that cohort leave it too; what was signed in
  the cohort stays in the cohort's figures, as it happened;
- a cohort's funder, support body, dates or consultants are no dimension of the rollups:
  nothing to mark (consultants' access is read live by the policy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    OrgKind,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    utcnow,
)
from afest.organisations import checks

COHORT_CODE = re.compile(r"[A-Za-z0-9#][A-Za-z0-9#_.\-]{0,59}")


@dataclass(frozen=True)
class StructureData:
    """A structure as a form or an import row gives it (checked by the operation)."""

    name: str
    siret: str
    departement: str
    category: str
    opco_id: int | None = None
    branch: str = ""


@dataclass(frozen=True)
class CohortData:
    code: str
    name: str
    description: str = ""
    funder_id: int | None = None
    support_body_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    structure_sirets: tuple[str, ...] = ()  # the structures, by SIRET
    consultant_ids: frozenset[int] = frozenset()


SNAPSHOT = ("kind", "name", "code", "siret", "departement", "branch", "category", "opco_id")


def snapshot(organisation: Organisation) -> dict[str, Any]:
    """What an organisation's audit entries show before and after a change."""
    return {name: getattr(organisation, name) for name in SNAPSHOT}


def _name(text: str | None, field: str = "name", limit: int = 200) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise ServiceError(_l("Indiquez un nom."), field=field)
    if len(name) > limit:
        raise ServiceError(_l("%(n)s caractères au plus.", n=limit), field=field)
    return name


def _checked(check, value, field: str):
    try:
        return check(value)
    except ValueError as exc:
        raise ServiceError(exc.args[0], field=field) from None


def _record(session: Session, actor_id: int | None, action: str, org: Organisation, before=None):
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_kind="organisation",
        subject_id=org.id,
        structure_id=org.id if org.kind == OrgKind.STRUCTURE else None,
        before=before,
        after=snapshot(org),
    )


# --- OPCOs and support bodies -------------------------------------------------------------


BODY_KINDS = (OrgKind.OPCO, OrgKind.SUPPORT_BODY)


def _free_code(session: Session, code: str, *, exclude_id: int | None) -> None:
    query = select(Organisation).where(func.upper(Organisation.code) == code)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    taken = session.exec(query).first()
    if taken is not None:
        raise ServiceError(
            _l("Ce code est déjà celui de « %(name)s ».", name=taken.name), field="code"
        )


def create_body(
    session: Session, *, actor_id: int | None, kind: OrgKind, name: str, code: str
) -> Organisation:
    """Create an OPCO or a support body (an Aract, a DAVA) with its short code."""
    if kind not in BODY_KINDS:
        raise ServiceError(_l("Ce type d'organisme n'existe pas."), field="kind")
    name = _name(name)
    code = _checked(checks.body_code, code, "code")
    _free_code(session, code, exclude_id=None)
    body = Organisation(kind=kind, name=name, code=code)
    session.add(body)
    session.flush()
    _record(session, actor_id, "organisation.create", body)
    return body


def update_body(
    session: Session, *, actor_id: int | None, body: Organisation, name: str, code: str
) -> Organisation:
    """Rename an OPCO or a support body, or change its code."""
    if body.kind not in BODY_KINDS:
        raise ServiceError(_l("Ce type d'organisme n'existe pas."), field="kind")
    name = _name(name)
    code = _checked(checks.body_code, code, "code")
    _free_code(session, code, exclude_id=body.id)
    before = snapshot(body)
    body.name, body.code = name, code
    if snapshot(body) != before:
        session.add(body)
        session.flush()
        _record(session, actor_id, "organisation.update", body, before)
    return body


# --- structures ---------------------------------------------------------------------------


def siret_owner(session: Session, siret: str, *, exclude_id: int | None = None):
    query = select(Organisation).where(Organisation.siret == siret)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    return session.exec(query).first()


def _opco(session: Session, opco_id: int | None) -> int | None:
    if opco_id is None:
        return None
    opco = session.get(Organisation, opco_id)
    if opco is None or opco.kind != OrgKind.OPCO:
        raise ServiceError(_l("OPCO inconnu : choisissez-en un dans la liste."), field="opco")
    return opco.id


def checked_structure(
    session: Session, data: StructureData, *, current: Organisation | None
) -> dict[str, Any]:
    """The columns of a structure from `data`, every rule checked (ServiceError beside the
    field). A SIRET already on record for this structure is kept as it is, even if it was
    stored before its key was checked; any other must have a valid key and be free."""
    values: dict[str, Any] = {"name": _name(data.name)}
    compact = re.sub(r"[\s.\-]", "", data.siret or "")
    if current is not None and current.siret and compact == current.siret:
        values["siret"] = current.siret
    else:
        values["siret"] = _checked(checks.siret, data.siret, "siret")
        owner = siret_owner(
            session, values["siret"], exclude_id=current.id if current is not None else None
        )
        if owner is not None:
            raise ServiceError(
                _l("Ce SIRET est déjà celui de « %(name)s ».", name=owner.name), field="siret"
            )
    values["departement"] = _checked(checks.departement, data.departement, "departement")
    values["category"] = _checked(checks.category, data.category, "category")
    branch = " ".join((data.branch or "").split())
    if len(branch) > 120:
        raise ServiceError(_l("%(n)s caractères au plus.", n=120), field="branch")
    values["branch"] = branch or None
    values["opco_id"] = _opco(session, data.opco_id)
    return values


def create_structure(
    session: Session,
    *,
    actor_id: int | None,
    data: StructureData,
    cohort_ids: Iterable[int] = (),
) -> Organisation:
    """Create a structure (an employer) with its OPCO, in the cohorts given."""
    values = checked_structure(session, data, current=None)
    cohorts = _cohorts(session, cohort_ids)
    structure = Organisation(kind=OrgKind.STRUCTURE, **values)
    session.add(structure)
    session.flush()
    session.add_all(CohortStructure(cohort_id=c, structure_id=structure.id) for c in cohorts)
    _record(session, actor_id, "organisation.create", structure)
    if cohorts:
        _record_membership(session, actor_id, structure, [], cohorts)
    return structure


def update_structure(
    session: Session,
    *,
    actor_id: int | None,
    structure: Organisation,
    data: StructureData,
    cohort_ids: Iterable[int] | None = None,
) -> Organisation:
    """Edit a structure; with `cohort_ids`, set the cohorts it belongs to as well. Its
    protocols and pathways follow a new département or OPCO (see the module's notes)."""
    if structure.kind != OrgKind.STRUCTURE:
        raise ServiceError(_l("Cet organisme n'est pas une structure."), field="name")
    values = checked_structure(session, data, current=structure)
    cohorts = None if cohort_ids is None else _cohorts(session, cohort_ids)
    before = snapshot(structure)
    for name, value in values.items():
        setattr(structure, name, value)
    after = snapshot(structure)
    if after != before:
        session.add(structure)
        session.flush()
        _record(session, actor_id, "organisation.update", structure, before)
        apply_moves(session, actor_id=actor_id, changes=[(structure, before)])
    if cohorts is not None:
        _set_cohorts(session, actor_id, structure, cohorts)
    return structure


def apply_moves(
    session: Session,
    *,
    actor_id: int | None,
    changes: Iterable[tuple[Organisation, Mapping[str, Any]]],
) -> None:
    """After structures changed (each with its snapshot before): drafts follow a new OPCO,
    and the dashboards follow a new OPCO or département."""
    moved: set[int] = set()
    new_opco: dict[int, int | None] = {}
    for structure, before in changes:
        if structure.opco_id != before["opco_id"]:
            new_opco[structure.id] = structure.opco_id
            moved.add(structure.id)
        if structure.departement != before["departement"]:
            moved.add(structure.id)
    if new_opco:
        drafts = session.exec(
            select(Protocol)
            .where(Protocol.structure_id.in_(sorted(new_opco)))
            .where(Protocol.status == ProtocolStatus.DRAFT)
            .order_by(Protocol.id)
        ).all()
        now = utcnow()
        for protocol in drafts:
            funder = new_opco[protocol.structure_id]
            if protocol.funder_id == funder:
                continue
            audit.record(
                session,
                actor_id=actor_id,
                action="protocol.funder",
                subject_kind="protocol",
                subject_id=protocol.id,
                protocol_id=protocol.id,
                structure_id=protocol.structure_id,
                before={"funder_id": protocol.funder_id},
                after={"funder_id": funder},
            )
            protocol.funder_id, protocol.updated_at = funder, now
            session.add(protocol)
    rollups.on_structures_changed(session, moved)


# --- cohort membership (from either side) -------------------------------------------------


def _cohorts(session: Session, cohort_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(cohort_ids))
    found = set(session.exec(select(Cohort.id).where(Cohort.id.in_(ids)))) if ids else set()
    if found != set(ids):
        raise ServiceError(_l("Cohorte inconnue."), field="cohorts")
    return ids


def _set_cohorts(session, actor_id, structure: Organisation, wanted: list[int]) -> None:
    current = set(
        session.exec(
            select(CohortStructure.cohort_id).where(CohortStructure.structure_id == structure.id)
        )
    )
    joined, left = sorted(set(wanted) - current), sorted(current - set(wanted))
    if not joined and not left:
        return
    session.add_all(CohortStructure(cohort_id=c, structure_id=structure.id) for c in joined)
    for cohort_id in left:
        _leave_cohort(session, actor_id, cohort_id, [structure.id])
    session.flush()
    _record_membership(session, actor_id, structure, sorted(current), sorted(wanted))


def _record_membership(session, actor_id, structure: Organisation, before, after) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action="organisation.cohorts",
        subject_kind="organisation",
        subject_id=structure.id,
        structure_id=structure.id,
        before={"cohort_ids": list(before)},
        after={"cohort_ids": list(after)},
    )


def _leave_cohort(session, actor_id, cohort_id: int, structure_ids: list[int]) -> None:
    """Structures leave a cohort: their drafts in it leave it too (and are marked)."""
    session.execute(
        delete(CohortStructure).where(
            CohortStructure.cohort_id == cohort_id,
            CohortStructure.structure_id.in_(structure_ids),
        )
    )
    drafts = session.exec(
        select(Protocol)
        .where(
            Protocol.cohort_id == cohort_id,
            Protocol.structure_id.in_(structure_ids),
            Protocol.status == ProtocolStatus.DRAFT,
        )
        .order_by(Protocol.id)
    ).all()
    now = utcnow()
    for protocol in drafts:
        audit.record(
            session,
            actor_id=actor_id,
            action="protocol.cohort",
            subject_kind="protocol",
            subject_id=protocol.id,
            protocol_id=protocol.id,
            structure_id=protocol.structure_id,
            before={"cohort_id": cohort_id},
            after={"cohort_id": None},
        )
        protocol.cohort_id, protocol.updated_at = None, now
        session.add(protocol)
    session.flush()
    rollups.mark(session, [p.id for p in drafts])


# --- cohorts ------------------------------------------------------------------------------


def _cohort_snapshot(session: Session, cohort: Cohort) -> dict[str, Any]:
    return {
        "code": cohort.code,
        "name": cohort.name,
        "description": cohort.description,
        "funder_id": cohort.funder_id,
        "support_body_id": cohort.support_body_id,
        "starts_on": cohort.starts_on,
        "ends_on": cohort.ends_on,
        "structure_ids": sorted(
            session.exec(
                select(CohortStructure.structure_id).where(CohortStructure.cohort_id == cohort.id)
            )
        ),
        "consultant_ids": sorted(
            session.exec(
                select(CohortConsultant.user_id).where(CohortConsultant.cohort_id == cohort.id)
            )
        ),
    }


def _checked_cohort(session: Session, data: CohortData, *, exclude_id: int | None) -> dict:
    code = (data.code or "").strip()
    if not code:
        raise ServiceError(_l("Indiquez un code."), field="code")
    if not COHORT_CODE.fullmatch(code):
        raise ServiceError(
            _l("Un code tient en 60 lettres, chiffres, tirets, points ou #, sans espace."),
            field="code",
        )
    query = select(Cohort).where(func.upper(Cohort.code) == code.upper())
    if exclude_id is not None:
        query = query.where(Cohort.id != exclude_id)
    taken = session.exec(query).first()
    if taken is not None:
        raise ServiceError(
            _l(
                "Le code %(code)s est déjà celui de la cohorte « %(name)s ».",
                code=code,
                name=taken.name,
            ),
            field="code",
        )
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise ServiceError(_l("La fin précède le début."), field="ends_on")
    for field, org_id, kind, message in (
        ("funder", data.funder_id, OrgKind.OPCO, _l("Financeur inconnu : choisissez un OPCO.")),
        (
            "support_body",
            data.support_body_id,
            OrgKind.SUPPORT_BODY,
            _l("Organisme d'accompagnement inconnu."),
        ),
    ):
        if org_id is not None:
            org = session.get(Organisation, org_id)
            if org is None or org.kind != kind:
                raise ServiceError(message, field=field)
    sirets = sorted(set(data.structure_sirets))
    found: dict[str, int] = {}
    for start in range(0, len(sirets), 500):
        found.update(
            session.exec(
                select(Organisation.siret, Organisation.id).where(
                    Organisation.siret.in_(sirets[start : start + 500]),
                    Organisation.kind == OrgKind.STRUCTURE,
                )
            ).all()
        )
    unknown = [s for s in sirets if s not in found]
    if unknown:
        raise ServiceError(
            _l(
                "Aucune structure n'a ce(s) SIRET : %(sirets)s.",
                sirets=", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else ""),
            ),
            field="structures",
        )
    structures = sorted(found.values())
    consultants = sorted(set(data.consultant_ids))
    if consultants:
        found = set(
            session.exec(
                select(RoleAssignment.user_id).where(
                    RoleAssignment.user_id.in_(consultants),
                    RoleAssignment.role == Role.CONSULTANT,
                )
            )
        )
        if found != set(consultants):
            raise ServiceError(
                _l("Seules des personnes ayant le rôle de consultant·e suivent une cohorte."),
                field="consultants",
            )
    return {
        "code": code,
        "name": _name(data.name),
        "description": (data.description or "").strip()[:5000],
        "funder_id": data.funder_id,
        "support_body_id": data.support_body_id,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "structures": structures,
        "consultants": consultants,
    }


def create_cohort(session: Session, *, actor_id: int | None, data: CohortData) -> Cohort:
    """Create a cohort (a programme) with its structures and the consultants following it."""
    values = _checked_cohort(session, data, exclude_id=None)
    structures, consultants = values.pop("structures"), values.pop("consultants")
    cohort = Cohort(**values)
    session.add(cohort)
    session.flush()
    session.add_all(CohortStructure(cohort_id=cohort.id, structure_id=s) for s in structures)
    session.add_all(CohortConsultant(cohort_id=cohort.id, user_id=u) for u in consultants)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="cohort.create",
        subject_kind="cohort",
        subject_id=cohort.id,
        after=_cohort_snapshot(session, cohort),
    )
    return cohort


def update_cohort(
    session: Session, *, actor_id: int | None, cohort: Cohort, data: CohortData
) -> Cohort:
    """Edit a cohort, its structures and consultants; structures leaving it take their
    drafts out of it (see the module's notes)."""
    values = _checked_cohort(session, data, exclude_id=cohort.id)
    structures, consultants = values.pop("structures"), values.pop("consultants")
    before = _cohort_snapshot(session, cohort)
    for name, value in values.items():
        setattr(cohort, name, value)
    session.add(cohort)
    joined = sorted(set(structures) - set(before["structure_ids"]))
    left = sorted(set(before["structure_ids"]) - set(structures))
    session.add_all(CohortStructure(cohort_id=cohort.id, structure_id=s) for s in joined)
    if left:
        _leave_cohort(session, actor_id, cohort.id, left)
    now_following, was_following = set(consultants), set(before["consultant_ids"])
    session.add_all(
        CohortConsultant(cohort_id=cohort.id, user_id=u)
        for u in sorted(now_following - was_following)
    )
    if was_following - now_following:
        session.execute(
            delete(CohortConsultant).where(
                CohortConsultant.cohort_id == cohort.id,
                CohortConsultant.user_id.in_(sorted(was_following - now_following)),
            )
        )
    session.flush()
    after = _cohort_snapshot(session, cohort)
    if after != before:
        audit.record(
            session,
            actor_id=actor_id,
            action="cohort.update",
            subject_kind="cohort",
            subject_id=cohort.id,
            before=before,
            after=after,
        )
    return cohort
