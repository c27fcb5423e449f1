"""The baseline: a bare Flask endpoint doing one INSERT and a commit, nothing else.

It shares everything with the real app that is not the app's own work: the same
gunicorn settings, database, driver and engine options, the same form-body parsing and a
303 answer. What the real submit costs above this is what the CRM code adds.
Served by `gunicorn bench.bare_app:app`; bench/run.py creates the table beforehand.
"""

import json
import os
from functools import cache

import sqlalchemy as sa
from flask import Flask, redirect, request

from config import CONFIGS, normalise_database_url

TABLE = "bench_bare"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id serial PRIMARY KEY,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

app = Flask(__name__)
_INSERT = sa.text(f"INSERT INTO {TABLE} (payload) VALUES (:payload)")


def app_engine_options(url: str) -> dict:
    """The engine options the real app uses for this URL, so the baselines pay what it pays."""
    config_cls = CONFIGS[os.environ.get("CRM_ENV", "development")]
    config = {name: getattr(config_cls, name) for name in dir(config_cls) if name.isupper()}
    config["SQLALCHEMY_DATABASE_URI"] = url
    try:  # the app derives them from its config (timeouts per backend) ...
        from crm import engine_options
    except ImportError:  # ... or, before that, kept them in Config
        return dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    return engine_options(config)


@cache
def engine() -> sa.Engine:
    """Created on first use, so that bench/run.py can import the DDL without a database."""
    url = normalise_database_url(os.environ["DATABASE_URL"])
    return sa.create_engine(url, **app_engine_options(url))


@app.get("/")
def ready():
    """Answer the readiness probe without touching the database."""
    return "ok"


@app.post("/submit")
def submit():
    """Store the posted form as one row and redirect, as the real submit does."""
    payload = json.dumps(request.form.to_dict(), separators=(",", ":"))
    with engine().begin() as connection:
        connection.execute(_INSERT, {"payload": payload})
    return redirect("/", code=303)
