"""Authorization table of the learner's area: progress, data export, VAE pathways."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from afest.models import Role, User, VaePathway
from afest.vae import operations as vae
from afest.vae import states as vae_states
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each

NOBODY_BUT_THE_LEARNER = each(404, learner=200)


def _user(session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _learner_in_scope(session, who: str) -> str:
    """The walker's learner reads their own record; anyone else gets that same record."""
    return _user(session, ROLE_EMAILS["learner"]).public_id


def _foreign_learner(session, factories) -> str:
    structure = factories.make_structure()
    return factories.make_user([(Role.LEARNER, structure.id)]).public_id


def _pathway_in_scope(session, who: str) -> str:
    """For the consultant: a pathway they accompany whose self-assessment is still open.
    The other demo actors of the table have no VAE pathway in scope: any pathway will do."""
    query = select(VaePathway).order_by(VaePathway.id)
    if who == "consultant":
        consultant = _user(session, ROLE_EMAILS["consultant"])
        query = query.where(
            VaePathway.consultant_id == consultant.id,
            VaePathway.state.in_(sorted(vae_states.FEASIBILITY_OPEN)),
        )
    return session.exec(query).first().public_id


def _foreign_pathway(session, factories) -> str:
    protocol, people = factories.make_protocol()
    pathway = vae.start_pathway(
        session,
        actor_id=people["manager"].id,
        learner_id=people["learner"].id,
        structure_id=protocol.structure_id,
        referential_id=protocol.referential_id,
        cohort_id=None,
        consultant_id=None,
        started_on=date.today(),
    )
    session.commit()
    return pathway.public_id


OBJECTS = {
    "learner": ObjectKind(in_scope=_learner_in_scope, foreign=_foreign_learner),
    "vae": ObjectKind(in_scope=_pathway_in_scope, foreign=_foreign_pathway),
}

ACCOMPANYING = each(404, consultant=200)

ROUTES = {
    "learner.me": Route("GET", each(403, learner=302), foreign=None),
    "learner.progress_page": Route("GET", NOBODY_BUT_THE_LEARNER, obj="learner"),
    "learner.export_page": Route("GET", NOBODY_BUT_THE_LEARNER, obj="learner"),
    "learner.export_json": Route("GET", NOBODY_BUT_THE_LEARNER, obj="learner"),
    "vae.index": Route("GET", each(403, learner=200, consultant=200, manager=200), foreign=None),
    "vae.show": Route("GET", ACCOMPANYING, obj="vae"),
    # An empty form: the consultant may record, and is told what is missing.
    "vae.record": Route("POST", each(404, consultant=422), obj="vae"),
    "vae.feasibility": Route("GET", ACCOMPANYING, obj="vae"),
    "vae.save_feasibility": Route("POST", each(404, consultant=302), obj="vae"),
    "vae.dossier_page": Route("GET", ACCOMPANYING, obj="vae"),
    "vae.dossier_docx": Route("GET", ACCOMPANYING, obj="vae"),
}
