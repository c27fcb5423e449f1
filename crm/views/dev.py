"""A development-only mailbox: the .eml files the embedded mail backend wrote."""

import ipaddress
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def loopback_only():
    """Show mail only to a browser on this machine, even on a developer's open port."""
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        abort(404)


_SHOWN = 200


def _mail_dir() -> Path:
    return Path(current_app.config["MAIL_DIR"])


def _read(path: Path):
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@bp.get("/mailbox")
def mailbox():
    """List the newest emails the app has "sent"."""
    paths = sorted(_mail_dir().glob("*.eml"), reverse=True)[:_SHOWN]
    messages = [(path.name, _read(path)) for path in paths]
    return render_template("dev/mailbox.html", messages=messages)


@bp.get("/mailbox/<name>")
def show_message(name: str):
    """Show one email: headers, and its HTML part as the recipient would see it."""
    path = _mail_dir() / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    message = _read(path)
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    return render_template(
        "dev/message.html",
        name=name,
        message=message,
        text=text.get_content() if text else "",
        has_html=html is not None,
    )


@bp.get("/mailbox/<name>/html")
def message_html(name: str):
    path = _mail_dir() / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    html = _read(path).get_body(preferencelist=("html",))
    if html is None:
        abort(404)
    response = Response(html.get_content(), mimetype="text/html")
    # Shown inside the mailbox page only, with no scripts.
    response.headers["Content-Security-Policy"] = "sandbox; frame-ancestors 'self'"
    return response
