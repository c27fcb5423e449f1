"""Advocate CRM: lead capture and the patient-advocate call queue."""

import os
from pathlib import Path

from flask import Flask, flash, g, redirect, render_template, request, url_for
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, INSTANCE_DIR, ProductionConfig
from crm.security_headers import register_security_headers


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app for 'development', 'testing' or 'production' (CRM_ENV by default).

    Production is the default, as it is for Flask's debug mode: forgetting to say where the
    app runs must never give a server development secrets, a mailbox page or demo data.
    """
    config_name = config_name or os.environ.get("CRM_ENV", "production")
    config_cls = CONFIGS[config_name]
    if config_cls is ProductionConfig:
        ProductionConfig.check()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(config_cls)
    app.config["CRM_ENV"] = config_name
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_proxy(app)
    register_operations(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_cli(app)
    register_celery(app)
    return app


def register_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* only from as many proxies as the deployment says it has."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_operations(app: Flask) -> None:
    """Request ids and log format first, so every later hook's log lines carry the id."""
    from crm.services.ops.logs import configure_logging, track_request_ids
    from crm.views.ops import observe_requests

    configure_logging(app.config)
    track_request_ids(app)
    observe_requests(app)


def register_extensions(app: Flask) -> None:
    from crm.extensions import csrf, db, login_manager, migrate
    from crm.services.lookups import warm_up

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        prepare_sqlite_connections(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)

    from crm.services import staff_sessions

    # The cookie names a server-side session, not a user: see crm/services/staff_sessions.py.
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def load_user(session_token: str):
        # A page's background poll (X-Background-Poll) is not the person at work.
        background = request.headers.get("X-Background-Poll") == "1"
        user, ended = staff_sessions.resolve(session_token, touch=not background)
        g.staff_session_ended = ended
        return user

    @login_manager.unauthorized_handler
    def sign_in_first():
        if request.headers.get("X-Background-Poll") == "1":
            # A page's poll: no sign-in page and no message; the page's next load says why.
            return "", 401
        ended = g.get("staff_session_ended") in ("idle", "lifetime")
        flash(
            "Your session ended; please sign in again."
            if ended
            else "Please sign in to see that page."
        )
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    warm_up()


def engine_options(config) -> dict:
    """Engine settings that keep a dead or slow database from hanging a visitor's request."""
    options = {
        "pool_pre_ping": True,
        "hide_parameters": True,
        **config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options.setdefault("pool_timeout", config["DB_POOL_TIMEOUT_SECONDS"])
        options.setdefault(
            "connect_args",
            {
                "connect_timeout": config["DB_CONNECT_TIMEOUT_SECONDS"],
                "options": f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}",
            },
        )
    elif config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # How long a write waits for another process's lock before it counts as an outage.
        options.setdefault("connect_args", {"timeout": config["DB_STATEMENT_TIMEOUT_MS"] / 1000})
    return options


def prepare_sqlite_connections(engine) -> None:
    """Turn on ON DELETE rules and add the SQL functions PostgreSQL has and SQLite lacks."""
    if engine.dialect.name != "sqlite":
        return
    from crm.models.contact import SQLITE_FUNCTIONS

    @event.listens_for(engine, "connect")
    def _prepare(dbapi_connection, connection_record):
        # SQLite ignores ON DELETE rules unless each connection asks for them.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        for name, function in SQLITE_FUNCTIONS.items():
            arity = function.__code__.co_argcount
            dbapi_connection.create_function(name, arity, function, deterministic=True)


def register_blueprints(app: Flask) -> None:
    from crm.extensions import csrf
    from crm.views import (
        admin,
        admin_specialists,
        api,
        auth,
        calls,
        canned_replies,
        chat,
        chat_embed,
        chats,
        contact_actions,
        contacts,
        dev,
        email_links,
        manager,
        ops,
        public,
        queue,
        referrals,
        search,
    )

    # Public forms check their own CSRF token in form.validate(), so that an expired
    # token re-renders the form with the visitor's data instead of a bare 400.
    csrf.exempt(public.bp)
    # The same for the visitor's chat pages: an expired token keeps the message typed.
    csrf.exempt(chat.bp)
    # The chat's embed: its posts carry the chat's random token, which stands in for CSRF.
    csrf.exempt(chat_embed.bp)
    # The JSON API is cookie-less and needs an API key (no browser holds one); CSRF does not apply.
    csrf.exempt(api.bp)
    # One-click unsubscribe comes without cookies (RFC 8058); its signed token is the proof.
    csrf.exempt(email_links.bp)
    # Probes and scrapers hold no session and post nothing.
    csrf.exempt(ops.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(email_links.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(contacts.bp)
    app.register_blueprint(contact_actions.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_specialists.bp)
    app.register_blueprint(referrals.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(chat_embed.bp)
    app.register_blueprint(chats.bp)
    app.register_blueprint(canned_replies.bp)
    # Never in production, whatever the settings say: it shows every email the app sent.
    if app.config["DEV_MAILBOX_ENABLED"] and app.config["CRM_ENV"] != "production":
        app.register_blueprint(dev.bp)


def register_error_handlers(app: Flask) -> None:
    from flask import request

    def handle(status: int):
        # A client told "too many" is told when to try again (RFC 6585), not left to guess.
        headers = {"Retry-After": "60"} if status == 429 else {}

        def handler(error):
            if request.path.startswith("/api/"):
                return {"error": getattr(error, "name", "Error")}, status, headers
            # Our own abort(400, description=...) says what was wrong; Werkzeug's stock text not.
            detail = getattr(error, "description", None)
            detail = None if detail == getattr(type(error), "description", None) else detail
            return render_template(f"errors/{status}.html", detail=detail), status, headers

        return handler

    for status in (400, 403, 404, 405, 413, 429, 500):
        template_status = 400 if status == 405 else status
        app.register_error_handler(status, handle(template_status))

    from crm.services.outage import (
        DATABASE_UNAVAILABLE,
        RETRY_AFTER_SECONDS,
        forget_failed_transaction,
    )

    unavailable = handle(503)

    def database_unavailable(error):
        # A 503 that says when to come back, never a 500: the pool reconnects by itself.
        forget_failed_transaction()
        body, status, _ = unavailable(error)
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)


def register_template_helpers(app: Flask) -> None:
    from crm.models.enums import ConsentChannel
    from crm.services.consent import disclosure

    app.jinja_env.globals["consent_text"] = lambda channel: disclosure(ConsentChannel(channel)).text
    app.jinja_env.globals["staff_nav"] = STAFF_NAV

    @app.context_processor
    def view_endpoints():
        return {"view_endpoints": app.view_functions}


# Staff navigation: endpoint, text, roles that see it (links to views not built are left out).
STAFF_NAV = [
    ("queue.queue", "Call queue", ("advocate", "manager")),
    ("chats.chats", "Chats", ("advocate", "manager")),
    ("search.contacts", "Contacts", ("advocate", "manager")),
    ("manager.funnel", "Funnel", ("manager", "admin")),
    ("manager.speed", "Speed to lead", ("manager", "admin")),
    ("manager.advocates", "Advocates", ("manager", "admin")),
    ("manager.referrals_and_guides", "Referrals and guides", ("manager", "admin")),
    ("manager.chats", "Chat report", ("manager", "admin")),
    ("manager.board", "Live board", ("manager", "admin")),
    ("manager.spam", "Spam review", ("manager",)),
    ("manager.fulfilment", "Printed guides", ("manager",)),
    ("manager.referrals", "Referrals", ("manager",)),
    ("manager.audit", "Audit", ("manager",)),
    ("canned_replies.replies", "Chat replies", ("manager", "admin")),
    ("admin.users", "Users", ("admin",)),
    ("admin.guide", "Guide", ("admin",)),
    ("admin_specialists.specialists", "Specialists", ("admin",)),
]


def register_cli(app: Flask) -> None:
    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)


def register_celery(app: Flask) -> None:
    from crm.tasks import celery_init_app

    celery_init_app(app)
