"""The WSGI entry point: `gunicorn wsgi:app`."""

from remedy import create_app

app = create_app()
