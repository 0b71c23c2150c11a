"""Domain verbs. Each takes `session`, `actor` and data as keyword-only arguments, flushes but
never commits (the request commits once), and writes the audit entry of every state change."""


class ServiceError(Exception):
    """A domain rule refused the operation; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
