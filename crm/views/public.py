"""The public pages: the three lead forms, their embeddable versions and the thank-you page."""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from crm.forms.public import PUBLIC_FORMS, PublicLeadForm
from crm.models import utcnow
from crm.models.enums import BestTime, FormKind
from crm.services import capture, signing
from crm.services.callback_times import describe_callback_promise
from crm.services.chat.fallback import callback_prefill
from crm.services.form_tokens import issue_token, read_token
from crm.services.outage import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    forget_failed_transaction,
)
from crm.views.chat import visitors_chat
from crm.views.submit_guard import (
    SubmitLimitExceeded,
    bot_reason,
    request_meta,
    submit_limits,
    token_expired,
)

bp = Blueprint("public", __name__)

_THANKS_SALT = "thank-you"
_THANKS_MAX_AGE = 7 * 24 * 3600
SESSION_EXPIRED = (
    "For your security, this form timed out. Your details are still here: "
    "please check them and press the button again."
)
PAGE_TOO_OLD = (
    "This page was open for a long time. Your details are still here: "
    "please check them and press the button again."
)


@bp.get("/")
def home():
    """Show the three ways we can help."""
    return render_template("public/home.html")


@bp.route("/guide", methods=["GET", "POST"])
@submit_limits
def guide():
    """Request the free mesothelioma guide."""
    return lead_form_page(FormKind.guide)


@bp.route("/callback", methods=["GET", "POST"])
@submit_limits
def callback():
    """Ask a patient advocate to call back."""
    return lead_form_page(FormKind.callback)


@bp.route("/specialist-match", methods=["GET", "POST"])
@submit_limits
def specialist_match():
    """Ask to be matched with a mesothelioma specialist."""
    return lead_form_page(FormKind.specialist_match)


@bp.route("/embed/<slug>", methods=["GET", "POST"])
@submit_limits
def embed(slug: str):
    """The same forms, laid out to sit in an iframe on the marketing site."""
    kind = FormKind.from_value(slug)
    if kind not in PUBLIC_FORMS:
        abort(404)
    return lead_form_page(kind, embedded=True)


@bp.get("/thank-you/<token>")
def thanks(token: str):
    """Say concretely what happens next."""
    try:
        data = _thanks_serializer().loads(token, max_age=_THANKS_MAX_AGE)
        kind = FormKind(data["form"])
    except (BadSignature, KeyError, ValueError, TypeError):
        abort(404)
    # Reached from an embedded form: it shows inside the same iframe.
    g.embeddable = bool(data.get("embedded"))
    promise = None
    if kind == FormKind.callback:
        best_time = BestTime.from_value(data.get("best_time")) or BestTime.asap
        promise = describe_callback_promise(best_time, data.get("time_zone"), utcnow())
    return render_template(
        "public/thanks.html",
        kind=kind,
        promise=promise,
        printed_guide=bool(data.get("printed_guide")),
        embedded=bool(data.get("embedded")),
    )


@bp.errorhandler(SubmitLimitExceeded)
def rate_limited(error):
    """Keep an over-limit submit for review and answer like any other submit."""
    kind = _form_kind_of_request()
    if kind is None:
        return render_template("errors/429.html"), 429
    capture.record_suspected_spam(kind, "rate_limited", _raw_fields(), request_meta())
    embedded = request.endpoint == "public.embed"
    return redirect(_thanks_url(kind, _promise_inputs(kind), embedded), code=303)


def lead_form_page(kind: FormKind, embedded: bool = False):
    """Render a lead form, or take its submit: spam apart, errors back, leads stored."""
    form_cls = PUBLIC_FORMS[kind]
    # Embedded forms live in a third-party iframe where the session cookie is not sent;
    # their signed, expiring form token stands in for the session-bound CSRF token.
    form = form_cls(meta={"csrf": not embedded})
    template = "public/lead_form.html"
    if request.method == "GET":
        form.fill_attribution(request)
        form.form_token.data = issue_token()
        if kind == FormKind.callback and request.args.get("from") == "chat" and not embedded:
            _fill_from_chat(form)
        return _render_form(template, form, kind, embedded)

    token = read_token(form.form_token.data)
    reason = bot_reason(form.website.data, token)
    meta = request_meta(form.page_url.data)
    if reason:
        capture.record_suspected_spam(kind, reason, _raw_fields(), meta)
        return redirect(_thanks_url(kind, _promise_inputs(kind), embedded), code=303)
    if token_expired(token):
        form.form_token.data = issue_token(token.nonce)
        form.validate()
        return _render_form(template, form, kind, embedded, notice=PAGE_TOO_OLD)
    if not form.validate():
        notice = SESSION_EXPIRED if form.errors.get("csrf_token") else None
        return _render_form(template, form, kind, embedded, notice=notice, status=422)
    lead = form.to_lead()
    try:
        # Back, edit, send again: the same page with other answers is a correction, kept.
        capture.submit_lead(lead, meta, idempotency_key="form:" + token.nonce, corrections=True)
    except DATABASE_UNAVAILABLE:
        # Nothing was stored: the visitor keeps every answer and can simply send again.
        forget_failed_transaction()
        page, _ = _render_form(template, form, kind, embedded, notice=_unavailable_notice())
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return redirect(_thanks_url(kind, _promise_inputs(kind, lead), embedded), code=303)


def _fill_from_chat(form: PublicLeadForm) -> None:
    """Fill the callback form from this visitor's own chat (their session's), if unanswered.

    An answered chat has an advocate in it already; a chat of someone else is never found,
    since only the random token in this visitor's signed session names one.
    """
    chat = visitors_chat()
    if chat is None or chat.claimed_by_user_id is not None:
        return
    prefill = callback_prefill(chat)
    form.first_name.data = prefill.first_name
    form.email.data = prefill.email
    form.phone.data = prefill.phone
    form.message.data = prefill.message


def _unavailable_notice() -> str:
    return (
        "We could not save your request just now, and nothing was sent. Your details are "
        "still here: please press the button again in a minute, or call us at "
        f"{current_app.config['ORG_PHONE']}."
    )


def _render_form(template, form: PublicLeadForm, kind, embedded, notice=None, status=200):
    page = render_template(
        template,
        form=form,
        kind=kind,
        embedded=embedded,
        notice=notice,
        action=url_for("public.embed", slug=kind.value) if embedded else request.path,
    )
    return page, status


def _thanks_serializer() -> URLSafeTimedSerializer:
    return signing.timed_serializer(_THANKS_SALT)


def _thanks_url(kind: FormKind, promise: dict, embedded: bool) -> str:
    """A link to the thank-you page carrying no personal data, only what the promise needs."""
    data = {"form": kind.value, "embedded": embedded, **promise}
    return url_for("public.thanks", token=_thanks_serializer().dumps(data))


def _promise_inputs(kind: FormKind, lead=None) -> dict:
    """What the thank-you page needs to say when we will call or what we will send."""
    if lead is None:
        raw_best_time = BestTime.from_value(request.form.get("best_time"))
        return {"best_time": raw_best_time.value if raw_best_time else None}
    if kind == FormKind.callback:
        return {"best_time": lead.details.get("best_time"), "time_zone": lead.time_zone}
    if kind == FormKind.guide:
        return {"printed_guide": lead.details.get("printed_guide", False)}
    return {}


_FORM_ENDPOINTS = {
    "public.guide": FormKind.guide,
    "public.callback": FormKind.callback,
    "public.specialist_match": FormKind.specialist_match,
}


def _form_kind_of_request() -> FormKind | None:
    if request.endpoint == "public.embed":
        return FormKind.from_value((request.view_args or {}).get("slug"))
    return _FORM_ENDPOINTS.get(request.endpoint)


def _raw_fields() -> dict:
    """What was posted, ticked boxes as lists, so that staff can release it as it was sent."""
    return {
        key: values if len(values) > 1 else values[0]
        for key, values in request.form.lists()
        if key != "csrf_token"
    }
