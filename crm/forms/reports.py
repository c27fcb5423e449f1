"""The manager reports' filters, read from the query string (GET forms: no CSRF to protect)."""

from datetime import date, timedelta

from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from crm.forms.base import BaseForm
from crm.models.enums import Diagnosis, FormKind

# The trend draws a point a day: a bound keeps a page (and its CSV) a readable size.
MAX_DAYS = 366
DEFAULT_DAYS = 30
# Breakdowns: the query value, what the selector says; values are funnel_daily dimensions.
BREAKDOWNS = [
    ("form", "Form"),
    ("source", "Source"),
    ("medium", "Medium"),
    ("campaign", "Campaign"),
    ("diagnosis", "Diagnosis"),
    ("is_veteran", "Veteran"),
    ("state", "State"),
    ("advocate_id", "Assigned advocate"),
]
_DATE_MESSAGE = "Give a date as YYYY-MM-DD."


def _options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ReportPeriodForm(BaseForm):
    """A range of days in the organisation's time zone, both ends included."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()], render_kw={"type": "date"})
    end = DateField("To (inclusive)", validators=[Optional()], render_kw={"type": "date"})

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # WTForms' own message for an unreadable date ("Not a valid date value.") gives no format.
        for field in (self.start, self.end):
            field.errors = [_DATE_MESSAGE if "valid date" in e else e for e in field.errors]
        if self.start.errors or self.end.errors:
            return False
        start, end = self.period_or_default()
        if end < start:
            self.end.errors = ["The end date comes before the start date."]
        elif (end - start).days + 1 > MAX_DAYS:
            self.end.errors = [f"Choose at most {MAX_DAYS} days."]
        return valid and not self.end.errors

    def period_or_default(self) -> tuple[date, date]:
        """The chosen days; an end left blank is today, a start left blank 30 days before it."""
        end = self.end.data or self.today
        return self.start.data or end - timedelta(days=DEFAULT_DAYS - 1), end


class FunnelFilterForm(ReportPeriodForm):
    """The funnel's period, breakdown and filters (a blank filter filters nothing)."""

    by = SelectField("Break down by", choices=_options(BREAKDOWNS), default="form")
    form = SelectField(
        "Form", choices=_options([("", "Any form"), *FormKind.choices()]), validators=[Optional()]
    )
    source = StringField("Source", validators=[Optional(), Length(max=255)])
    medium = StringField("Medium", validators=[Optional(), Length(max=255)])
    campaign = StringField("Campaign", validators=[Optional(), Length(max=255)])
    diagnosis = SelectField(
        "Diagnosis",
        choices=_options([("", "Any diagnosis"), *Diagnosis.choices()]),
        validators=[Optional()],
    )
    is_veteran = SelectField(
        "Veteran",
        choices=_options([("", "Either"), ("yes", "Yes"), ("no", "No")]),
        validators=[Optional()],
    )
    state = StringField("State", validators=[Optional(), Length(max=2)])
    advocate_id = SelectField("Assigned advocate", validators=[Optional()])

    FILTERS = ("form", "source", "medium", "campaign", "diagnosis", "is_veteran", "state")

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.advocate_id.choices = _options(
            [("", "Anyone"), *((str(user.id), user.name) for user in staff)]
        )

    def filters(self) -> dict:
        """The filters given, as funnel() keyword arguments."""
        chosen = {name: self[name].data for name in self.FILTERS if self[name].data}
        if "is_veteran" in chosen:
            chosen["is_veteran"] = chosen["is_veteran"] == "yes"
        if "state" in chosen:
            chosen["state"] = chosen["state"].upper()
        if self.advocate_id.data:
            chosen["advocate_id"] = int(self.advocate_id.data)
        return chosen
