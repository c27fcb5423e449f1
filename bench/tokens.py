"""Fresh form tokens for the `submit` target, made by the app's own code in this process.

A rendered form carries a signed one-time token (a random nonce and the render time);
`issue_token()` needs only an app context whose SECRET_KEY equals the server's, so a
minimal Flask app stands in for the real one and no page render is needed per submit.
"""

from flask import Flask

from bench.settings import SECRET_KEY
from crm.services.form_tokens import issue_token

_app = Flask("bench-tokens")
_app.config["SECRET_KEY"] = SECRET_KEY
_app.config["SECRET_KEY_FALLBACKS"] = []  # as the served app has none


def fresh_form_token() -> str:
    """A token as a new render of the form would carry: new nonce, rendered now."""
    with _app.app_context():  # app contexts are per thread: safe from every visitor
        return issue_token()
