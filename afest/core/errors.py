"""The error an operation raises when a domain rule refuses it."""


class ServiceError(Exception):
    """A domain rule refused the operation; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
