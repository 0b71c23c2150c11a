"""What the organisation tests share: valid SIRETs, the demo's organisations, uploads."""

from __future__ import annotations

import io
import itertools

import pytest
from openpyxl import Workbook
from sqlmodel import select
from stdnum import luhn

from afest.models import Cohort, Organisation, OrgKind

ADMIN = "admin@afest.demo"
AZUR = "77568412300018"  # the demo's home-help structure (its SIRET predates key checks)
_serial = itertools.count(1)


def new_siret(n: int | None = None) -> str:
    """A SIRET with valid keys (the SIREN's and the whole number's), different each call."""
    n = next(_serial) * 7919 + 400_000 if n is None else n
    siren = f"{n % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    nic = f"{(n // 7) % 10**4:04d}"
    return siren + nic + luhn.calc_check_digit(siren + nic)


def org(session, **where) -> Organisation:
    query = select(Organisation)
    for name, value in where.items():
        query = query.where(getattr(Organisation, name) == value)
    return session.exec(query).one()


@pytest.fixture()
def uniformation(session) -> Organisation:
    return org(session, code="UNIFORMATION")


@pytest.fixture()
def opco_sante(session) -> Organisation:
    return org(session, code="OPCO-SANTE")


@pytest.fixture()
def aract(session) -> Organisation:
    return org(session, code="ARACT-PACA", kind=OrgKind.SUPPORT_BODY)


@pytest.fixture()
def care_skills(session) -> Cohort:
    return session.exec(select(Cohort).where(Cohort.code == "CARE-SKILLS-2026")).one()


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "structures.csv"):
    return client.post(
        "/admin/structures/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
