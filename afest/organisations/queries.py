"""Reads of the organisation screens: lists a page at a time, and the choices of the forms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    User,
)


@dataclass(frozen=True)
class StructureLine:
    structure: Organisation
    opco_name: str | None
    cohorts: int


@dataclass(frozen=True)
class BodyLine:
    body: Organisation
    structures: int  # funded (OPCO); cohorts accompanied (support body)


@dataclass(frozen=True)
class CohortLine:
    cohort: Cohort
    funder_name: str | None
    support_body_name: str | None
    structures: int
    consultants: int


def _like(needle: str) -> str:
    escaped = needle.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page(rows: list, size: int) -> tuple[list, bool]:
    return rows[:size], len(rows) > size


def structures(
    session: Session, needle: str, *, page: int, size: int
) -> tuple[list[StructureLine], bool]:
    """A page of structures whose name, SIRET or département holds `needle`, by name, with
    their OPCO's name and how many cohorts they are in; and whether more follow."""
    opco = aliased(Organisation)
    in_cohorts = (
        select(func.count())
        .where(CohortStructure.structure_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    query = (
        select(Organisation, opco.name, in_cohorts)
        .outerjoin(opco, opco.id == Organisation.opco_id)
        .where(Organisation.kind == OrgKind.STRUCTURE)
    )
    if needle.strip():
        like = _like(needle)
        query = query.where(
            or_(
                func.lower(Organisation.name).like(like, escape="\\"),
                Organisation.siret.like(like.replace(" ", ""), escape="\\"),
                func.lower(Organisation.departement) == needle.strip().lower(),
                func.lower(opco.name).like(like, escape="\\"),
            )
        )
    rows = session.exec(
        query.order_by(Organisation.name, Organisation.id).offset((page - 1) * size).limit(size + 1)
    ).all()
    lines, more = _page(list(rows), size)
    return [StructureLine(org, name, n) for org, name, n in lines], more


def bodies(
    session: Session, kind: OrgKind, needle: str, *, page: int, size: int
) -> tuple[list[BodyLine], bool]:
    """A page of OPCOs (with the structures they fund) or support bodies (with the cohorts
    they accompany) whose name or code holds `needle`, by name."""
    if kind == OrgKind.OPCO:
        funded = aliased(Organisation)
        count = (
            select(func.count())
            .select_from(funded)
            .where(funded.opco_id == Organisation.id, funded.kind == OrgKind.STRUCTURE)
        )
    else:
        count = select(func.count()).where(Cohort.support_body_id == Organisation.id)
    count = count.correlate(Organisation).scalar_subquery()
    query = select(Organisation, count).where(Organisation.kind == kind)
    if needle.strip():
        like = _like(needle)
        query = query.where(
            or_(
                func.lower(Organisation.name).like(like, escape="\\"),
                func.lower(Organisation.code).like(like, escape="\\"),
            )
        )
    rows = session.exec(
        query.order_by(Organisation.name, Organisation.id).offset((page - 1) * size).limit(size + 1)
    ).all()
    lines, more = _page(list(rows), size)
    return [BodyLine(org, n) for org, n in lines], more


def cohorts(
    session: Session, needle: str, *, page: int, size: int
) -> tuple[list[CohortLine], bool]:
    """A page of cohorts whose code or name holds `needle`, latest start first, with their
    funder, support body, and how many structures and consultants."""
    funder, body = aliased(Organisation), aliased(Organisation)
    n_structures = (
        select(func.count())
        .where(CohortStructure.cohort_id == Cohort.id)
        .correlate(Cohort)
        .scalar_subquery()
    )
    n_consultants = (
        select(func.count())
        .where(CohortConsultant.cohort_id == Cohort.id)
        .correlate(Cohort)
        .scalar_subquery()
    )
    query = (
        select(Cohort, funder.name, body.name, n_structures, n_consultants)
        .outerjoin(funder, funder.id == Cohort.funder_id)
        .outerjoin(body, body.id == Cohort.support_body_id)
    )
    if needle.strip():
        like = _like(needle)
        query = query.where(
            or_(
                func.lower(Cohort.name).like(like, escape="\\"),
                func.lower(Cohort.code).like(like, escape="\\"),
            )
        )
    rows = session.exec(
        query.order_by(Cohort.starts_on.desc().nulls_last(), Cohort.code)
        .offset((page - 1) * size)
        .limit(size + 1)
    ).all()
    lines, more = _page(list(rows), size)
    return [CohortLine(*row) for row in lines], more


def body_choices(session: Session, kind: OrgKind) -> list[tuple[int, str]]:
    """(id, name) of every OPCO or support body, by name, for a select."""
    return [
        (oid, name)
        for oid, name in session.exec(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == kind)
            .order_by(Organisation.name)
        )
    ]


def cohort_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (cid, f"{name} ({code})")
        for cid, code, name in session.exec(
            select(Cohort.id, Cohort.code, Cohort.name).order_by(Cohort.name, Cohort.code)
        )
    ]


def consultants(session: Session) -> list[tuple[int, str, str, bool]]:
    """(id, name, e-mail, active) of every person holding the consultant role, by name."""
    holders = select(RoleAssignment.user_id).where(RoleAssignment.role == Role.CONSULTANT)
    return [
        tuple(row)
        for row in session.exec(
            select(User.id, User.full_name, User.email, User.is_active)
            .where(User.id.in_(holders))
            .order_by(User.full_name, User.id)
        )
    ]


def cohort_ids_of(session: Session, structure_id: int) -> list[int]:
    return sorted(
        session.exec(
            select(CohortStructure.cohort_id).where(CohortStructure.structure_id == structure_id)
        )
    )


def cohort_members(session: Session, cohort_id: int) -> tuple[list[Organisation], list[int]]:
    """A cohort's structures (by name) and the ids of its consultants."""
    members = session.exec(
        select(Organisation)
        .join(CohortStructure, CohortStructure.structure_id == Organisation.id)
        .where(CohortStructure.cohort_id == cohort_id)
        .order_by(Organisation.name)
    ).all()
    consultants = session.exec(
        select(CohortConsultant.user_id).where(CohortConsultant.cohort_id == cohort_id)
    ).all()
    return list(members), sorted(consultants)


def structures_by_siret(session: Session, sirets: list[str]) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    wanted = sorted(set(sirets))
    for start in range(0, len(wanted), 500):
        for org in session.exec(
            select(Organisation).where(
                Organisation.siret.in_(wanted[start : start + 500]),
                Organisation.kind == OrgKind.STRUCTURE,
            )
        ):
            found[org.siret] = org
    return found
