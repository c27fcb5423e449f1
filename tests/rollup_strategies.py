"""Random leads, stage moves and calls for the roll-up property tests (hypothesis strategies).

Leads come in around New York's midnights (the second night is the one clocks go forward);
events are written in any order and time (a call logged before its lead, backdated moves).
"""

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from crm.models import Contact
from crm.models.enums import CallOutcome, CloseOutcome, Diagnosis, FormKind, Stage
from crm.services.stages import TRANSITIONS
from tests.rollup_data import add_lead, log_call, move, send_again

# New York's midnight starting 7 March 2026; its midnights are 0, 1440 and 2820 minutes on.
START = datetime(2026, 3, 7, 5, 0, tzinfo=UTC)
MIDNIGHTS = (0, 1440, 2820)
minutes = st.one_of(
    st.integers(-90, 4 * 1440),
    st.sampled_from(MIDNIGHTS).flatmap(lambda m: st.integers(m - 3, m + 3)),
)
maybe = st.none().__or__
dimensions = st.fixed_dictionaries(
    {
        "utm_source": maybe(st.sampled_from(["google", "news"])),
        "utm_campaign": maybe(st.just("spring")),
        "diagnosis": maybe(st.sampled_from([Diagnosis.pleural, Diagnosis.peritoneal])),
        "is_veteran": st.booleans(),
        "state": maybe(st.sampled_from(["CA", "MA"])),
        "advocate": maybe(st.integers(0, 1)),
    }
)
leads = st.lists(
    st.fixed_dictionaries(
        {
            "at": minutes,
            "form": st.sampled_from(list(FormKind)),
            "dimensions": dimensions,
            # (which allowed move, minutes after the lead or the move before, outcome if closing)
            "moves": st.lists(
                st.tuples(st.integers(0, 9), st.integers(-30, 2000), st.sampled_from(CloseOutcome)),
                max_size=4,
            ),
            "calls": st.lists(
                st.tuples(
                    st.integers(-5, 3000),
                    st.integers(0, 1),
                    st.sampled_from(CallOutcome),
                    st.integers(0, 4000),
                ),
                max_size=3,
            ),
            # Forms sent again later: (minutes after the lead, form, a correction of the first)
            "again": st.lists(
                st.tuples(st.integers(-60, 3000), st.sampled_from(FormKind), st.booleans()),
                max_size=2,
            ),
            "later": maybe(dimensions),
        }
    ),
    min_size=1,
    max_size=6,
)


def contact_fields(chosen: dict, advocates: list[int]) -> dict:
    fields = {k: v for k, v in chosen.items() if k != "advocate"}
    advocate = chosen["advocate"]
    return fields | {"assigned_user_id": None if advocate is None else advocates[advocate]}


def write_lead(lead: dict, advocates: list[int]) -> Contact:
    at = START + timedelta(minutes=lead["at"])
    contact = add_lead(at, lead["form"], **contact_fields(lead["dimensions"], advocates))
    for choice, gap, outcome in lead["moves"]:
        allowed = TRANSITIONS[contact.stage]
        to = allowed[choice % len(allowed)]
        at += timedelta(minutes=gap)
        move(contact, to, at, outcome if to == Stage.closed else None)
    created = contact.created_at
    for after, advocate, outcome, seconds in lead["calls"]:
        log_call(contact, advocates[advocate], created + timedelta(minutes=after), outcome, seconds)
    for after, form, correction in lead.get("again", ()):
        send_again(contact, form, created + timedelta(minutes=after), correction)
    return contact
