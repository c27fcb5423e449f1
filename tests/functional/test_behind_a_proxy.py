"""Behind a reverse proxy the per-IP limit counts each visitor's own address, not the proxy's."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Submission, SuspectedSpam
from tests.forms import GUIDE, FormClient


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def submit_from(app, address: str, email: str, proxy: str = "10.0.0.2"):
    forms = FormClient(app.test_client())
    environ = {"REMOTE_ADDR": proxy}
    headers = {"X-Forwarded-For": address}
    page = forms.open("/guide", environ_base=environ, headers=headers)
    answers = {**GUIDE, "email": email, "phone": None}
    return forms.submit("/guide", answers, page=page, environ_base=environ, headers=headers)


def test_two_visitors_behind_one_trusted_proxy_are_two_addresses(make_app, app_ctx):
    proxied = make_app(TRUSTED_PROXY_HOPS=1, SUBMIT_LIMIT_PER_IP="1/hour")

    submit_from(proxied, "198.51.100.7", "first@example.org")
    submit_from(proxied, "198.51.100.8", "second@example.org")

    assert count(Submission) == 2 and count(SuspectedSpam) == 0
    addresses = set(db.session.scalars(sa.select(Submission.ip_address)))
    assert addresses == {"198.51.100.7", "198.51.100.8"}


def test_without_a_trusted_proxy_a_forged_header_changes_nothing(make_app, app_ctx):
    direct = make_app(TRUSTED_PROXY_HOPS=0, SUBMIT_LIMIT_PER_IP="1/hour")

    submit_from(direct, "198.51.100.7", "first@example.org")
    submit_from(direct, "198.51.100.8", "second@example.org")

    assert count(Submission) == 1 and count(SuspectedSpam) == 1
    assert set(db.session.scalars(sa.select(Submission.ip_address))) == {"10.0.0.2"}
