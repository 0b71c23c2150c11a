"""The error an operation raises when a domain rule refuses it, and how a form shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """A domain rule refused the operation; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def form_error(
    form: Any, exc: ServiceError, *, default: str | None = None, aliases: Mapping[str, str] = {}
) -> None:
    """Show a refused operation's message on its form: beside the field the rule names
    (`aliases` maps a rule's field name onto the form's), else beside `default`, else at the
    top of the form. The one way every view answers a ServiceError."""
    # plain text: a lazy string passes for safe HTML in templates, and a message may hold a
    # name someone typed
    message = str(exc.message)
    name = aliases.get(exc.field, exc.field) if exc.field else default
    if name not in form and default is not None:
        name = default
    if name in form:
        form[name].errors = [*form[name].errors, message]
    else:
        form.form_errors.append(message)
