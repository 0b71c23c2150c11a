"""Authorization table of the certificat de réalisation: its page and its signature are the
structure's manager's (the dispensateur's signatory); 403 for the others who see the
protocol, 404 for the admin who does not and for a protocol of another tenant."""

from __future__ import annotations

from tests.authz import Route, each

ROUTES = {
    "certificates.show": Route("GET", each(403, admin=404, manager=200), obj="protocol"),
    # the form sent is empty: answered on it, nothing signed
    "certificates.sign": Route("POST", each(403, admin=404, manager=422), obj="protocol"),
}
