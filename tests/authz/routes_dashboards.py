"""Authorization table of the dashboards: OPCO view, cohort view, structure drill-down."""

from __future__ import annotations

from sqlmodel import select

from afest.models import Cohort, Organisation
from tests.authz import ANON, ObjectKind, Route, each

IN_SCOPE_STRUCTURE = {
    "opco": "77568412300018",  # Azur Aide à Domicile, funded by Uniformation
    "manager": "77568412300018",
    "consultant": "26130000100017",  # an EHPAD of #CARE-SKILLS
}


def _structure_in_scope(session, who: str) -> str:
    siret = IN_SCOPE_STRUCTURE.get(who, "77568412300018")
    return session.exec(select(Organisation).where(Organisation.siret == siret)).one().public_id


def _foreign_structure(session, factories) -> str:
    return factories.make_structure().public_id


def _cohort_in_scope(session, who: str) -> str:
    return session.exec(select(Cohort).where(Cohort.code == "CARE-SKILLS-2026")).one().public_id


def _foreign_cohort(session, factories) -> str:
    cohort = Cohort(code="FOREIGN-COHORT", name="Cohorte étrangère")
    session.add(cohort)
    session.flush()
    return cohort.public_id


OBJECTS = {
    "structure": ObjectKind(in_scope=_structure_in_scope, foreign=_foreign_structure),
    "cohort": ObjectKind(in_scope=_cohort_in_scope, foreign=_foreign_cohort),
}

_ = ANON
ROUTES = {
    "dashboards.opco": Route("GET", each(403, opco=200), foreign=None),
    "dashboards.opco_risk": Route("GET", each(403, opco=200), foreign=None),
    "dashboards.opco_export": Route(
        "GET", each(403, opco=200), params={"fmt": "csv"}, foreign=None
    ),
    "dashboards.cohort": Route("GET", each(404, consultant=200), obj="cohort"),
    "dashboards.cohort_export": Route(
        "GET", each(404, consultant=200), obj="cohort", params={"fmt": "xlsx"}
    ),
    "dashboards.structure": Route(
        "GET", each(404, opco=200, manager=200, consultant=200), obj="structure"
    ),
    "dashboards.structure_export": Route(
        "GET",
        each(404, opco=200, manager=200, consultant=200),
        obj="structure",
        params={"fmt": "csv"},
    ),
}
