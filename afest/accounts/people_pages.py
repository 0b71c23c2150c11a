"""What the pages of a structure's people show, composed for their templates: the list,
one person, a leaving tutor's handover. A form with errors answers 422."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from afest.accounts import people
from afest.accounts.forms import replace_tutor_form
from afest.core.forms import EmptyForm
from afest.models import Organisation
from afest.protocols import tutors


def _status(form) -> int:
    return 422 if form.errors else 200


def roster(session: Session, structure: Organisation, form) -> dict[str, Any]:
    """The structure's people and the form that adds one."""
    people_there = people.people_of(session, structure.id)
    return {"structure": structure, "people": people_there, "form": form, "status": _status(form)}


def person(structure: Organisation, found: people.Person, form) -> dict[str, Any]:
    """One person: her roles form and the buttons (state, invitation) beside it."""
    return {
        "structure": structure,
        "person": found,
        "form": form,
        "action_form": EmptyForm(),
        "status": _status(form),
    }


def handover_form(session: Session, structure: Organisation, found: people.Person):
    """The handover form of a leaving tutor's open protocols, and the tutors who may take
    them over."""
    tutored, candidates = tutors.handover(
        session, structure_id=structure.id, tutor_id=found.user.id
    )
    return replace_tutor_form(tutored, candidates), candidates


def handover(structure: Organisation, found: people.Person, form, candidates) -> dict[str, Any]:
    """A leaving tutor's open protocols, each with the tutors who may take it over."""
    return {
        "structure": structure,
        "person": found,
        "form": form,
        "candidates": candidates,
        "status": _status(form),
    }
