"""WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py 'afest.wsgi:app'`.

config/gunicorn.conf.py warms the PDF renderer in each worker once it has loaded this app, so
that the first proof pack a worker serves is as fast as the next ones.
"""

from afest import create_app

app = create_app()
