"""Submit the real HTML forms the way a browser does: fetch the page, keep its hidden fields."""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from crm.services import signing


class _FormFields(HTMLParser):
    """Collect the values a browser would post by default (inputs, checked boxes, selects)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.action: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form" and self.action is None:
            self.action = attributes.get("action")
        elif tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.values[name] = attributes.get("value", "y")
            elif kind != "submit":
                self.values[name] = attributes.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.values[self._select] = attributes.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@dataclass
class FormPage:
    url: str
    action: str
    defaults: dict[str, str]


class FormClient:
    def __init__(self, client):
        self.client = client

    def open(self, url: str, **kwargs) -> FormPage:
        response = self.client.get(url, **kwargs)
        assert response.status_code == 200, response.status_code
        return self.page_from(url, response.get_data(as_text=True))

    def page_from(self, url: str, html: str) -> FormPage:
        parser = _FormFields()
        parser.feed(html)
        action = parser.action or urlsplit(url).path
        return FormPage(url, action, parser.values)

    def submit(self, url: str, data: dict, page: FormPage | None = None, **kwargs):
        """Open the page (unless given) and post the visitor's answers with its hidden fields."""
        page = page or self.open(url)
        body = {**page.defaults, **{k: v for k, v in data.items() if v is not None}}
        for name in [name for name, value in data.items() if value is None]:
            body.pop(name, None)
        return self.client.post(page.action, data=body, **kwargs)


GUIDE = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "Maria.Lopez@Example.com",
    "phone": "(617) 555-0134",
    "zip": "02110",
    "relationship": "spouse",
    "diagnosis": "pleural",
    "interests": "treatment",
    "consent_email": "y",
}
CALLBACK = {
    "first_name": "James",
    "last_name": "O'Brien",
    "phone": "312-555-0187",
    "zip": "60601",
    "best_time": "afternoon",
    "message": "My father was just diagnosed.",
    "consent_calls": "y",
}
SPECIALIST = {
    "first_name": "Ana",
    "last_name": "Nguyen",
    "email": "ana.nguyen@example.org",
    "zip": "94103",
    "diagnosis": "peritoneal",
    "cancer_stage": "2",
    "consent_email": "y",
}


def thank_you_says(location: str) -> dict:
    """What a thank-you link tells its page (its signature carries the second it was made)."""
    token = location.rsplit("/thank-you/", 1)[1]
    return signing.timed_serializer("thank-you").loads(token)
