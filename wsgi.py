"""Entry point for gunicorn (wsgi:app), flask (--app wsgi) and celery (-A wsgi)."""

from crm import create_app

app = create_app()
celery_app = app.extensions["celery"]
