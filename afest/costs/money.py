"""Money as integer cents: read as people type it in France ("18,50", "1 234,5 €", "18.50"),
shown in the request's language ("18,50 €", "€18.50"), given to a workbook as a number of
euros."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency
from flask import current_app, has_app_context
from flask_babel import get_locale

# Digits, optionally grouped by thousands (space, no-break spaces, a dot), then at most two
# decimals after a comma or a dot, then the euro sign or "EUR" if typed.
_AMOUNT = re.compile(
    r"^(?P<units>\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d{1,9})(?:[,.](?P<cents>\d{1,2}))?"
    r"\s*(?:€|eur|euros?)?$",
    re.IGNORECASE | re.ASCII,
)


def parse_cents(text: str | None) -> int:
    """The cents of an amount typed in euros; ValueError if it is not one (negative, three
    decimals, letters)."""
    match = _AMOUNT.match((text or "").strip())
    if match is None:
        raise ValueError(text)
    units = int(re.sub(r"[^0-9]", "", match["units"]))
    cents = (match["cents"] or "0").ljust(2, "0")
    return units * 100 + int(cents)


def euros(cents: int) -> Decimal:
    """The amount in euros, exact (a workbook's number)."""
    return Decimal(cents).scaleb(-2)


def typed(cents: int | None) -> str:
    """An amount as a French form shows it again: 1850 → "18,50"."""
    if cents is None:
        return ""
    return f"{cents // 100},{cents % 100:02d}"


def shown(cents: int) -> str:
    """An amount for people to read, in the request's language (the default one elsewhere)."""
    locale = get_locale() if has_app_context() else None
    if locale is None:
        locale = current_app.config["DEFAULT_LOCALE"] if has_app_context() else "fr"
    return format_currency(euros(cents), "EUR", locale=locale)
