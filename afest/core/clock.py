"""The platform's time zone (TIMEZONE) and today's date in it: what people read and type."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app

from afest.models import utcnow


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(zone()).date()
