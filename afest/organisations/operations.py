"""Organisations: create and edit OPCOs, support bodies and structures, and the cohorts a
structure belongs to (the cohorts themselves: afest.organisations.cohorts).

Every change is audited. A structure's protocols and the dashboards follow its new
département or OPCO, or a cohort it leaves (afest.organisations.moves).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import Cohort, CohortStructure, Organisation, OrgKind
from afest.organisations import checks
from afest.organisations.moves import apply_moves, leave_cohort


@dataclass(frozen=True)
class StructureData:
    """A structure as a form or an import row gives it (checked by the operation)."""

    name: str
    siret: str
    departement: str
    category: str
    opco_id: int | None = None
    branch: str = ""


SNAPSHOT = ("kind", "name", "code", "siret", "departement", "branch", "category", "opco_id")


def snapshot(organisation: Organisation) -> dict[str, Any]:
    """What an organisation's audit entries show before and after a change."""
    return {name: getattr(organisation, name) for name in SNAPSHOT}


def clean_name(text: str | None, field: str = "name", limit: int = 200) -> str:
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
    name = clean_name(name)
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
    name = clean_name(name)
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
    values: dict[str, Any] = {"name": clean_name(data.name)}
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
    protocols and pathways follow a new département or OPCO (afest.organisations.moves)."""
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


# --- the cohorts of a structure -----------------------------------------------------------


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
        leave_cohort(session, actor_id=actor_id, cohort_id=cohort_id, structure_ids=[structure.id])
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
