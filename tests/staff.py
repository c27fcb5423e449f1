"""Sign in and use staff pages the way a browser does: every form posted with its CSRF token."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from tests.factories import DEFAULT_PASSWORD, make_user


@dataclass
class PageForm:
    action: str
    method: str
    form_id: str | None
    values: dict[str, str | list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Every form on a page, with the values a browser would post by default."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.forms: list[PageForm] = []
        self._current: PageForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self._current = PageForm(
                attributes.get("action") or self.url.split("?")[0],
                (attributes.get("method") or "get").lower(),
                attributes.get("id"),
            )
            self.forms.append(self._current)
        elif tag == "option" and self._current is not None and self._select:
            # Options carry no name of their own: the selected one posts under its select's.
            if "selected" in attributes:
                self._current.values[self._select] = attributes.get("value", "")
        elif self._current is None or not name:
            return
        elif tag == "input":
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                if "checked" in attributes:
                    # Several ticked boxes of one name are all posted, as a browser does.
                    value = attributes.get("value", "y")
                    ticked = self._current.values.get(name)
                    self._current.values[name] = (
                        value
                        if ticked is None
                        else [*([ticked] if isinstance(ticked, str) else ticked), value]
                    )
            elif kind == "radio":
                if "checked" in attributes:
                    self._current.values[name] = attributes.get("value", "y")
            elif kind != "submit":
                self._current.values[name] = attributes.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            # A textarea posts its text (a browser drops the one line break after the tag).
            self._textarea = name
            self._current.values[name] = ""

    def handle_data(self, data):
        if self._current is not None and self._textarea:
            text = self._current.values[self._textarea] + data
            self._current.values[self._textarea] = text.removeprefix("\n")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(url: str, html: str) -> list[PageForm]:
    parser = _Forms(url)
    parser.feed(html)
    return parser.forms


class StaffClient:
    """A test client for staff pages: open a page, fill one of its forms, post it.

    Each request runs in an application context of its own, as in production: a test that
    holds one open (app_ctx) would otherwise share `g` (Flask-Login's cached user, the CSRF
    token) between requests and hide exactly the bugs these tests look for.
    """

    def __init__(self, client):
        self.client = client

    def get(self, url: str, **kwargs):
        with self.client.application.app_context():
            return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs):
        with self.client.application.app_context():
            return self.client.post(url, **kwargs)

    def form(self, page_url: str, action: str | None = None, form_id: str | None = None):
        """The form on the page posting to `action` (or with this id; or the only POST form)."""
        response = self.get(page_url)
        assert response.status_code == 200, (page_url, response.status_code)
        candidates = [
            form
            for form in forms_on(page_url, response.get_data(as_text=True))
            if form.method == "post" and "/logout" not in form.action
        ]
        if action is not None:
            candidates = [form for form in candidates if form.action.split("?")[0] == action]
        if form_id is not None:
            candidates = [form for form in candidates if form.form_id == form_id]
        assert len(candidates) == 1, (page_url, action, form_id, candidates)
        return candidates[0]

    def submit(self, page_url: str, data: dict, *, action=None, form_id=None, **kwargs):
        """Post a form found on the page, its hidden fields (CSRF token) included."""
        form = self.form(page_url, action=action, form_id=form_id)
        body = {**form.values, **{k: v for k, v in data.items() if v is not None}}
        for name in [name for name, value in data.items() if value is None]:
            body.pop(name, None)
        return self.post(form.action, data=body, **kwargs)

    def csrf_token(self) -> str:
        """A valid CSRF token of this signed-in session (from the sign-out form)."""
        response = self.get("/staff", follow_redirects=True)
        forms = forms_on("/", response.get_data(as_text=True))
        return next(form.values["csrf_token"] for form in forms if "csrf_token" in form.values)

    def sign_in(self, email: str, password: str = DEFAULT_PASSWORD, **kwargs):
        return self.submit("/login", {"email": email, "password": password}, **kwargs)

    def sign_out(self):
        response = self.get("/staff", follow_redirects=True)
        logout = next(
            form
            for form in forms_on("/", response.get_data(as_text=True))
            if form.action.endswith("/logout")
        )
        return self.post(logout.action, data=logout.values)


def sign_in(client, email: str, password: str = DEFAULT_PASSWORD, **kwargs):
    """Sign a test client in through the real form; return the response."""
    return StaffClient(client).sign_in(email, password, **kwargs)


def signed_in(app_ctx, role, **fields) -> "StaffClient":
    """A new staff user of this role (with these fields), signed in on a client of their own."""
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(make_user(role, **fields).email)
    return staff
