"""Errors of the JSON API as RFC 9457 problem details (application/problem+json).

The type is "about:blank": the status says what went wrong, the title is its HTTP phrase,
and `detail` says it for this request, in the interface's language.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Response
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"

DETAILS = {
    400: _l("La requête n'est pas valide."),
    401: _l("Un jeton d'accès valide est demandé (en-tête Authorization: Bearer)."),
    403: _l("Ce jeton ne permet pas cette lecture."),
    404: _l("Cette ressource n'existe pas ou n'est pas accessible avec ce jeton."),
    405: _l("Cette adresse ne s'utilise pas avec cette méthode."),
    413: _l("Le contenu envoyé dépasse la taille permise."),
    429: _l("Trop de requêtes avec ce jeton : patientez avant de réessayer."),
    500: _l("Un problème est survenu sur le serveur."),
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def problem(status: int, detail: str | None = None, **extra) -> Response:
    """A problem details response of `status`; `extra` members go beside the standard ones."""
    status = status if status in DETAILS else 500
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail or DETAILS[status]),
        **extra,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="afest"'
    return response


class Problem(HTTPException):
    """Raised by an API view: answered as problem details of `status` saying `detail`."""

    def __init__(self, status: int, detail: str | None = None):
        super().__init__(description=str(detail or DETAILS.get(status, "")))
        self.code = status
        self.api_detail = detail
