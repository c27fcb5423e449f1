"""The headers every response carries: a nonce-based CSP, framing rules, HSTS, no caching.

OWASP ASVS 5.0 level 2 is the yardstick. Scripts run only from our own origin or with this
request's nonce, never inline handlers; styles come only from our stylesheets, so the pages
carry no style attributes. A page that may show what a visitor typed, and every staff page,
is never kept in a browser's or proxy's cache.
"""

import secrets

from flask import Flask, g, request

# Our own files only; `data:` images for nothing but the browser's own form widgets.
_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "frame-ancestors {ancestors}"
)


def csp_nonce() -> str:
    """This request's script nonce, made on first use; templates put it on each <script>."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def register_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if app.config["HSTS_SECONDS"]:
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains",
            )
        if request.endpoint != "static":
            # The one place that says it (no view does): the forms re-render a visitor's
            # answers and the staff pages show patients; nothing dynamic is stored by a
            # shared computer's browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = _POLICY.format(
                nonce=csp_nonce(), ancestors=_frame_ancestors(app, response)
            )
        return response


def _frame_ancestors(app: Flask, response) -> str:
    # The embedded forms, and every page a visitor reaches from one (thank-you, errors), may
    # sit in the marketing site's iframe; nothing else may be framed.
    if request.path.startswith("/embed/") or g.get("embeddable"):
        return " ".join(["'self'", *app.config["EMBED_ORIGINS"]])
    response.headers["X-Frame-Options"] = "DENY"
    return "'none'"
