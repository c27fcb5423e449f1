"""Every staff route, as every role and as nobody: only the roles it names get past the door.

The routes are read from the app's URL map, so a route added later is checked without
anyone remembering to: a staff view refused to a role answers 403 and audits it, and an
anonymous request is sent to sign in. (What a permitted role may see of one record, the
object-level rules, are tested beside each feature: calls only on one's own lease, chats only
by their holder, contact pages not for admins.)
"""

import pytest
from flask import url_for
from werkzeug.routing import AnyConverter, IntegerConverter

from crm.models.enums import Role
from crm.views.staff import ANYONE, StaffBlueprint
from tests.factories import make_user
from tests.staff import StaffClient

ROLES = (Role.advocate, Role.manager, Role.admin)


def staff_routes(app) -> list[tuple[str, str, tuple]]:
    """(method, url, roles allowed) of every route of a staff blueprint, bar the sign-in page."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
            if not isinstance(blueprint, StaffBlueprint):
                continue
            roles = app.view_functions[rule.endpoint].allowed_roles
            if roles == ANYONE:
                continue
            values = {name: _a_value(rule._converters[name]) for name in rule.arguments}
            method = "GET" if "GET" in rule.methods else "POST"
            routes.append((method, url_for(rule.endpoint, **values), roles))
    return routes


def _a_value(converter):
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def test_every_staff_route_is_closed_to_nobody_signed_in(app, client):
    routes = staff_routes(app)
    assert len(routes) >= 50

    for method, url, _ in routes:
        response = client.open(url, method=method)
        # A POST without a session fails its CSRF check before anything else (400).
        assert response.status_code in ((302,) if method == "GET" else (302, 400)), url
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value)
def test_every_staff_route_refuses_the_roles_it_does_not_name(app, app_ctx, role):
    staff = StaffClient(app.test_client())
    staff.sign_in(make_user(role).email)
    token = staff.csrf_token()

    refused = {}
    for method, url, roles in staff_routes(app):
        if role in roles:
            continue
        response = (
            staff.get(url) if method == "GET" else staff.post(url, data={"csrf_token": token})
        )
        refused[url] = response.status_code

    assert refused, f"some staff route is closed to the {role.value}"
    assert set(refused.values()) == {403}, refused
