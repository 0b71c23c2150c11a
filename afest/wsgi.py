"""WSGI entry point for gunicorn: `gunicorn 'afest.wsgi:app'`.

Each worker warms WeasyPrint in the background as it starts (under a second of CPU and about
30 MB, once), so that the first proof pack it serves is as fast as the next ones. It logs
"proof pack renderer ready" to gunicorn's log when done.
"""

import logging
import os
import threading

from afest import create_app
from afest.proof import proofpack

app = create_app()


def _warm_up() -> None:
    seconds = proofpack.warm_up()
    logging.getLogger("gunicorn.error").info(
        "proof pack renderer ready in %.2f s (worker %s)", seconds, os.getpid()
    )


threading.Thread(target=_warm_up, name="proofpack-warm-up", daemon=True).start()
