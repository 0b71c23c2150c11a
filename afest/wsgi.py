"""WSGI entry point for gunicorn: `gunicorn 'afest.wsgi:app'`.

Each worker warms WeasyPrint in the background as it starts (a second or so of CPU, once), so
that the first proof pack it serves is as fast as the next ones.
"""

import threading

from afest import create_app
from afest.services import proofpack

app = create_app()
threading.Thread(target=proofpack.warm_up, name="proofpack-warm-up", daemon=True).start()
