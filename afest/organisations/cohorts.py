"""Cohorts: create and edit a programme, its structures and the consultants following it.

Every change is audited with the cohort's snapshot before and after. A structure leaving a
cohort takes its drafts out of it (afest.organisations.moves); the cohort's funder, support
body, dates and consultants are no dimension of the dashboards: nothing to mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
)
from afest.organisations.moves import leave_cohort
from afest.organisations.operations import clean_name

COHORT_CODE = re.compile(r"[A-Za-z0-9#][A-Za-z0-9#_.\-]{0,59}")


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
        "name": clean_name(data.name),
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
    drafts out of it (afest.organisations.moves)."""
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
        leave_cohort(session, actor_id=actor_id, cohort_id=cohort.id, structure_ids=left)
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
