"""How often a person is reminded of what waits for her: daily, weekly or never.

`User.reminder_frequency` NULL means "the default of her roles": daily for a tutor (her
reflexive windows are counted in days), never for an OPCO adviser (she asks for her weekly
summary of the structures at risk), weekly for everyone else. `frequency_of` is the one
place that rule is written; the reminder digests and the preferences page both read it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import Role, RoleAssignment, User

DAILY = "daily"
WEEKLY = "weekly"
NEVER = "never"
FREQUENCIES = (DAILY, WEEKLY, NEVER)
OPTED_IN = (DAILY, WEEKLY)  # an OPCO adviser's summary is computed only for these choices

LABELS = {
    DAILY: _l("Quotidien"),
    WEEKLY: _l("Hebdomadaire"),
    NEVER: _l("Jamais"),
}


def default_of(roles: Iterable[Role | str]) -> str:
    """The frequency a person gets without choosing: daily for a tutor; never for an OPCO
    adviser with no other role (her summary of the structures at risk is hers to ask for);
    weekly otherwise."""
    roles = {Role(role) for role in roles}
    if Role.TUTOR in roles:
        return DAILY
    return NEVER if roles == {Role.OPCO} else WEEKLY


def frequency_of(user: User, roles: Iterable[Role | str]) -> str:
    """The reminder frequency of `user` holding `roles`: her choice, else her roles' default."""
    chosen = user.reminder_frequency
    return chosen if chosen in FREQUENCIES else default_of(roles)


def _roles(session: Session, user_id: int) -> list[Role]:
    return list(session.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id)))


def set_frequency(session: Session, *, actor_id: int, frequency: str | None) -> User:
    """The signed-in person chooses how often she is reminded (None: her roles' default);
    audited. Saving her roles' default while she never chose keeps "the default of her
    roles", which follows her if her roles change."""
    if frequency is not None and frequency not in FREQUENCIES:
        raise ServiceError(_l("Choisissez une fréquence de la liste."), field="frequency")
    user = session.get(User, actor_id)
    before = user.reminder_frequency
    if before is None and frequency == default_of(_roles(session, actor_id)):
        frequency = None
    if before == frequency:
        return user
    user.reminder_frequency = frequency
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="user.reminder_frequency",
        subject_kind="user",
        subject_id=user.id,
        before={"reminder_frequency": before},
        after={"reminder_frequency": frequency},
    )
    return user
