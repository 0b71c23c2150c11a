"""What an item of afest.todo.items says, in the current locale: `describe(item)` is its
sentence, `when(item)` its urgency in words (never only a colour), `url(item)` the screen
that resolves it. The same words on the home page and in the reminder e-mails."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from babel import dates as babel_dates
from flask import url_for
from flask_babel import format_date, format_time, get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from afest.todo.items import Item, Kind, Urgency

URGENCY_LABELS = {
    Urgency.LATE: _l("En retard"),
    Urgency.TODAY: _l("Aujourd'hui"),
    Urgency.SOON: _l("Bientôt"),
    Urgency.LATER: _l("À venir"),
}
CONDITIONS = {
    1: _l("analyse de l'activité"),
    2: _l("tuteur·rice désigné·e avant la première séquence"),
    3: _l("phases réflexives"),
    4: _l("évaluation des acquis"),
}
SIGNERS = {
    "learner": _l("l'apprenant·e"),
    "tutor": _l("le·la tuteur·rice"),
    "structure": _l("la structure"),
}


def url(item: Item) -> str:
    """The address of the screen that resolves `item`."""
    return url_for(item.endpoint, **item.values)


def _day(value) -> str:
    """A day (or the day of a UTC moment in the platform's zone), long, in the locale."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()).date()
    return _long_date(value, str(get_locale()))


@lru_cache(maxsize=2048)
def _long_date(day: date, locale: str) -> str:
    # the same few days come back on every line of a list: formatted once per locale
    return babel_dates.format_date(day, "long", locale=locale)


def _sequence(kind: str, when) -> str:
    if kind == "reflection":
        return _("le temps d'analyse du %(date)s", date=_day(when))
    return _("la mise en situation du %(date)s", date=_day(when))


def _listed(values) -> str:
    return ", ".join(str(v) for v in values)


def _at_risk(facts: dict) -> str:
    parts = []
    if facts.get("failed"):
        parts.append(_("non remplie : %(c)s", c=_listed(CONDITIONS[n] for n in facts["failed"])))
    if facts.get("late"):
        parts.append(_("en retard : %(c)s", c=_listed(CONDITIONS[n] for n in facts["late"])))
    if facts.get("soon"):
        parts.append(_("bientôt : %(c)s", c=_listed(CONDITIONS[n] for n in facts["soon"])))
    return _(
        "Protocole de %(learner)s, condition légale en jeu (%(what)s)",
        learner=facts["learner"],
        what=" ; ".join(parts),
    )


def _structure_at_risk(facts: dict) -> str:
    if "small" in facts:
        return ngettext(
            "%(num)d structure de moins de %(k)d apprenant·es a un protocole en jeu"
            " (non nommée, comme au tableau de bord)",
            "%(num)d structures de moins de %(k)d apprenant·es ont un protocole en jeu"
            " (non nommées, comme au tableau de bord)",
            facts["small"],
            k=facts["k"],
        )
    parts = []
    if facts["failing"]:
        parts.append(
            ngettext(
                "%(num)d protocole ne remplit pas une condition légale",
                "%(num)d protocoles ne remplissent pas une condition légale",
                facts["failing"],
            )
        )
    if facts["near"]:
        parts.append(
            ngettext(
                "%(num)d protocole est près d'en manquer une",
                "%(num)d protocoles sont près d'en manquer une",
                facts["near"],
            )
        )
    return _("%(structure)s : %(what)s", structure=facts["structure"], what=", ".join(parts))


def describe(item: Item) -> str:
    """The sentence of `item`, in the current locale."""
    f = item.facts
    match item.kind:
        case Kind.SIGN_PROTOCOL:
            return _("Signer le protocole « %(title)s »", title=f["title"])
        case Kind.COUNTERSIGN_SEQUENCE:
            what = _sequence(f["sequence_kind"], f["occurred_at"])
            return _("Contresigner %(what)s (%(title)s)", what=what, title=f["title"])
        case Kind.COUNTERSIGN_EVALUATION:
            if f["evaluation_kind"] == "final":
                text = _("Contresigner l'évaluation finale du %(date)s (%(title)s)")
            else:
                text = _("Contresigner l'évaluation intermédiaire du %(date)s (%(title)s)")
            return text % {"date": _day(f["evaluated_on"]), "title": f["title"]}
        case Kind.REFLECTION_DUE:
            return _(
                "Séquence réflexive avec %(learner)s sur la mise en situation du %(date)s",
                learner=f["learner"],
                date=_day(f["occurred_at"]),
            )
        case Kind.SIGN_SEQUENCE:
            what = _sequence(f["sequence_kind"], f["occurred_at"])
            return _("%(learner)s : signer %(what)s", what=what, learner=f["learner"])
        case Kind.PLANNED_SEQUENCE:
            return _(
                "Séquence prévue avec %(learner)s : %(planned)s",
                learner=f["learner"],
                planned=f["planned"],
            )
        case Kind.FINAL_EVALUATION:
            return _(
                "Évaluation finale de %(learner)s : son protocole se termine le %(date)s",
                learner=f["learner"],
                date=_day(f["ends"]),
            )
        case Kind.PROTOCOL_SIGNATURES:
            return _(
                "Protocole de %(learner)s à signer par %(who)s",
                learner=f["learner"],
                who=_listed(SIGNERS[role] for role in f["missing"]),
            )
        case Kind.PROTOCOL_AT_RISK:
            return _at_risk(f)
        case Kind.TUTOR_WITHOUT_PIN:
            return _("%(name)s n'a pas encore de code de tablette", name=f["name"])
        case Kind.INVITATION_PENDING:
            if f.get("expired"):
                return _("%(name)s n'a pas accepté son invitation (lien expiré)", name=f["name"])
            return _("%(name)s n'a pas encore accepté son invitation", name=f["name"])
        case Kind.STRUCTURE_AT_RISK:
            return _structure_at_risk(f)
        case Kind.VAE_STUCK:
            return _(
                "Parcours VAE de %(learner)s : aucune nouvelle étape depuis le %(date)s",
                learner=f["learner"],
                date=_day(f["since"]),
            )
    return str(item.kind)


def _ends_a_day(due: datetime) -> bool:
    local = due.astimezone(get_timezone())
    return (local.hour, local.minute, local.second) == (0, 0, 0)


def _deadline(due: datetime) -> str:
    """A deadline as people read it: a day when it ends at midnight (that day included),
    else a day and an hour."""
    if _ends_a_day(due):
        return _day(due.astimezone(get_timezone()) - timedelta(seconds=1))
    return f"{format_date(due, 'long')}, {format_time(due, 'HH:mm')}"


def when(item: Item) -> str:
    """The urgency of `item` in words, with its date when it has one."""
    if item.kind == Kind.PLANNED_SEQUENCE:
        return _("Aujourd'hui") if item.urgency == Urgency.TODAY else _("Demain")
    if item.due is None:
        return str(URGENCY_LABELS[item.urgency]) if item.urgency == Urgency.LATE else ""
    if item.urgency == Urgency.LATE:
        return _("En retard (délai : %(d)s)", d=_deadline(item.due))
    if item.urgency == Urgency.TODAY:
        if _ends_a_day(item.due):
            return _("Aujourd'hui")
        return _("Aujourd'hui, avant %(h)s", h=format_time(item.due, "HH:mm"))
    return _("Au plus tard le %(d)s", d=_deadline(item.due))
