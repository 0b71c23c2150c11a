"""WSGI entry point for gunicorn: `gunicorn 'afest.wsgi:app'`."""

from afest import create_app

app = create_app()
