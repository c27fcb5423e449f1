"""Demo data for the embedded defaults: staff logins and realistic leads, sent through capture."""

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, OutboxMessage, Submission, utcnow
from crm.models.enums import (
    BestTime,
    CallTaskStatus,
    CancerStage,
    ConsentChannel,
    Diagnosis,
    FormKind,
    Language,
    OutboxStatus,
    Relationship,
    Role,
    VeteranBranch,
)
from crm.services import lookups, rollups
from crm.services.capture import submit_lead
from crm.services.demo_chats import seed_demo_chats
from crm.services.demo_referrals import deliver_old_guides, record_demo_referrals_and_guides
from crm.services.demo_specialists import seed_demo_specialists
from crm.services.demo_work import record_demo_work
from crm.services.leads import LeadInput, RequestMeta
from crm.services.users import create_user, find_user

STAFF = (
    (Role.advocate, "advocate@example.org", "Dana Whitfield"),
    (Role.advocate, "advocate2@example.org", "Luis Ortega"),  # takes the Spanish calls
    (Role.advocate, "advocate3@example.org", "Keisha Brown"),
    (Role.manager, "manager@example.org", "Priya Raman"),
    (Role.admin, "admin@example.org", "Tom Becker"),
)
MAX_CONTACTS = 2000  # 45 area codes x 100 fictional 555-01XX numbers, with room to spare
RECENT = 5  # leads in the last two hours; the newest emails stay pending
SITE = "https://www.example-advocacy.org"
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real inbox

# Data tables read best as text; each splits into its entries.
FIRST = """Maria James Ana Robert Linda Michael Patricia David Barbara William Carol Richard Susan
Joseph Dorothy Thomas Gerald Wanda Kenneth Betty José Sofía Miguel Guadalupe Wei Mei Thanh Hiroshi
Priya Rajesh Aisha DeShawn Latoya Tyrone Imani Kwame Ngozi Olga Zoë Renée Mary-Kate Jean-Luc Seamus
Siobhan Fatima Kalani Leilani Dmitri Bernadette Earl"""
# These people ask to be called in Spanish (chosen by name: it draws nothing from the seed).
SPANISH_SPEAKERS = frozenset({"José", "Sofía", "Miguel", "Guadalupe"})
# Staff skills and languages by email: Luis takes the Spanish calls (the queue routes them).
STAFF_SKILLS = {"advocate2@example.org": (["spanish"], ["en", "es"])}
LAST = """Smith|Johnson|Williams|Brown|Garcia|Miller|Davis|Rodriguez|Martinez|Hernández|López|
Wilson|Anderson|Taylor|Jackson|Lee|Nguyen|Tran|Kim|Chen|Patel|Singh|Okafor|Mensah|Washington|
O'Brien|O\u2019Connor|D'Angelo|McAllister|Kowalski|Müller|Haddad|Khan|Yamamoto|Kealoha|Yazzie|
Smith-Jones|Rivera-Ortiz|St. James|Van der Berg|Dubois|Sullivan"""
# ZIP, city, area code: many are ports and shipyard towns, where Navy exposure was common.
PLACES = """02110 Boston 617|02169 Quincy 617|02903 Providence 401|06340 Groton 860|03801 Portsmouth
603|03904 Kittery 207|10001 New York 212|10301 Staten Island 718|07102 Newark 973|19104 Philadelphia
215|15222 Pittsburgh 412|21201 Baltimore 410|23510 Norfolk 757|23607 Newport News 757|29401
Charleston 843|32202 Jacksonville 904|33602 Tampa 813|33130 Miami 305|30303 Atlanta 404|36602 Mobile
251|39567 Pascagoula 228|70112 New Orleans 504|77002 Houston 713|77701 Beaumont 409|37203 Nashville
615|44113 Cleveland 216|43215 Columbus 614|48226 Detroit 313|46204 Indianapolis 317|60601 Chicago
312|63101 St. Louis 314|55401 Minneapolis 612|80202 Denver 303|84111 Salt Lake City 801|85004
Phoenix 602|59923 Libby 406|98101 Seattle 206|98310 Bremerton 360|97204 Portland 503|94590 Vallejo
707|94103 San Francisco 415|90012 Los Angeles 213|92101 San Diego 619|96813 Honolulu 808|99501
Anchorage 907"""
# "value:weight" for each answer; "-" is a question left blank.
FORMS = "guide:50 callback:30 specialist-match:20"
_DEMO_FORMS = (FormKind.guide, FormKind.callback, FormKind.specialist_match)
DIAGNOSES = "pleural:48 peritoneal:14 pericardial:2 testicular:1 not_sure:25 other:4 -:6"
RELATIONSHIPS = "patient:30 spouse:25 child:30 other_family:7 caregiver:5 other:3"
BRANCHES = "navy:45 army:22 air_force:10 marine_corps:10 coast_guard:8 other:5"
BEST_TIMES = "asap:45 morning:20 afternoon:20 evening:15"
STAGES = "1:5 2:12 3:15 4:13 unknown:20 -:35"
CAMPAIGNS = (  # weight, utm source, medium, campaign, landing path, referrer
    (35, "google", "cpc", "meso-guide", "/mesothelioma/treatment-guide", "https://www.google.com/"),
    (15, "facebook", "paid", "va-benefits", "/veterans/va-benefits", "https://m.facebook.com/"),
    (8, "bing", "cpc", "meso-specialists", "/mesothelioma/specialists", "https://www.bing.com/"),
    (30, None, None, None, "/mesothelioma/pleural", "https://www.google.com/"),  # organic
    (7, "caregiver-forum", "referral", "partners", "/caregivers", "https://forum.example.org/t/1"),
    (5, None, None, None, "/", None),  # typed in or bookmarked
)
TERMS = ("mesothelioma treatment", "mesothelioma specialist", "asbestos cancer navy veteran")
MESSAGES = """My father was just diagnosed with pleural mesothelioma.|My husband served on a Navy
destroyer in the 1960s and was just diagnosed.|We need help finding a specialist near us.|Please
call after 5, I am at work during the day.|Questions about VA benefits for my dad."""
TREATMENTS = ("Chemotherapy (pemetrexed and cisplatin)", "Immunotherapy (Opdivo and Yervoy)",
              "Waiting for biopsy results", "Surgery scheduled next month")  # fmt: skip
STREETS = ("Maple Ave", "Oak St", "Harbor Rd", "Elm St", "Bayview Dr", "Church St", "Pine Ln")
USER_AGENTS = """Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)|Mozilla/5.0 (Linux;
Android 14; Pixel 8)|Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"""
# People write in the day and evening more than at night: a weight for each local hour.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 8, 5, 2)


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    email: str
    phone: str
    place: lookups.ZipInfo
    city: str
    diagnosis: Diagnosis | None
    relationship: Relationship
    branch: VeteranBranch | None
    language: Language


@dataclass(frozen=True)
class _Visit:
    key: str
    at: datetime
    lead: LeadInput
    meta: RequestMeta


def seed_demo_data(contacts: int = 300, seed: int = 7) -> list[str]:
    """Create demo staff and `contacts` leads through the capture service, once."""
    if current_app.config["CRM_ENV"] == "production":
        raise RuntimeError("Demo data has fixed passwords: never load it in production.")
    if not 0 <= contacts <= MAX_CONTACTS:
        raise ValueError(f"contacts must be between 0 and {MAX_CONTACTS}")
    if all(find_user(email) for _, email, _ in STAFF):
        return ["Demo data is already there; nothing created.", *_login_lines()]
    now = utcnow()
    visits = sorted(_plan(random.Random(seed), contacts, now), key=lambda visit: visit.at)
    results = [
        submit_lead(visit.lead, visit.meta, visit.key, received_at=visit.at) for visit in visits
    ]
    fresh = [result for result in results if not result.replayed]
    returning = sum(not result.is_new_contact for result in fresh)
    pending = _settle_old_visits(visits)
    specialists = seed_demo_specialists()
    # Logins last: they mark a finished seed, so a run that stopped half-way is completed by
    # the next one, whose "demo:<n>" keys replay the submits already stored.
    for role, email, name in STAFF:
        if find_user(email) is None:
            skills, languages = STAFF_SKILLS.get(email, ([], ["en"]))
            create_user(
                email=email,
                name=name,
                role=role,
                password=_password(role),
                skills=skills,
                languages=languages,
            )
    advocate_ids = [find_user(email).id for role, email, _ in STAFF if role == Role.advocate]
    worked = record_demo_work(advocate_ids, seed)
    referred = record_demo_referrals_and_guides(advocate_ids, seed, now)
    replies, chats = seed_demo_chats(advocate_ids, utcnow())
    db.session.commit()
    # The reports read roll-ups; fold the demo history in now rather than at the first beat.
    rollups.rebuild()
    return [
        *_login_lines(),
        f"Added {specialists} demo specialists and cancer centres.",
        f"Added {replies} canned chat replies and {chats} demo chats (one visitor is waiting).",
        f"Created {len(fresh) - returning} contacts from {len(fresh)} submissions "
        f"({returning} returning); the {pending} newest emails are left to send; "
        f"advocates have worked {worked} of the older leads and sent {referred} referrals.",
    ]


# Demo only, printed by `make run`; each passes the password policy like a real one must.
_DEMO_PASSWORDS = {
    Role.advocate: "demo-harbor-lantern",
    Role.manager: "demo-meadow-compass",
    Role.admin: "demo-orchard-beacon",
}


def _password(role: Role) -> str:
    return _DEMO_PASSWORDS[role]


def _login_lines() -> list[str]:
    return ["Demo logins (embedded defaults only):"] + [
        f"  {role.value:<9} {email:<24} password: {_password(role)}" for role, email, _ in STAFF
    ]


def _entries(table: str) -> list[str]:
    return [entry.strip() for entry in table.replace("\n", " ").split("|")]


def _pick(rng: random.Random, table: str, enum_cls):
    """Draw one answer from a "value:weight ..." table."""
    entries = [entry.split(":") for entry in table.split()]
    value = rng.choices([value for value, _ in entries], [int(w) for _, w in entries])[0]
    return None if value == "-" else enum_cls(value)


def _plan(rng: random.Random, contacts: int, now: datetime) -> list[_Visit]:
    """Draw people and their submits; keys follow the drawing order, whatever the clock."""
    visits: list[_Visit] = []
    emails: set[str] = set()
    phones: set[str] = set()
    for index in range(contacts):
        person = _person(rng, emails, phones)
        at = _local_daytime(rng, now, ZoneInfo(person.place.time_zone or "America/New_York"))
        if index < RECENT:
            at = now - timedelta(minutes=rng.uniform(2, 120))
        form = _pick(rng, FORMS, FormKind)
        first = _lead(rng, person, form, earlier=None)
        visits.append(_Visit(f"demo:{len(visits) + 1}", at, first, _meta(rng, form)))
        if rng.random() < 0.1:  # comes back through another form: a re-engagement
            form = rng.choice([kind for kind in _DEMO_FORMS if kind != form])
            again = at + (now - at) * rng.uniform(0.05, 0.5)
            lead = _lead(rng, person, form, earlier=first)
            visits.append(_Visit(f"demo:{len(visits) + 1}", again, lead, _meta(rng, form)))
    return visits


def _person(rng: random.Random, emails: set[str], phones: set[str]) -> _Person:
    first, last = rng.choice(FIRST.split()), rng.choice(_entries(LAST))
    phone = ""
    while not phone or phone in phones:
        zip_code, *city, area = rng.choice(_entries(PLACES)).split()
        phone = lookups.normalise_us_phone(f"({area}) 555-01{rng.randrange(100):02d}")
    phones.add(phone)
    local = _ascii(first) + rng.choice((".", "", "_")) + _ascii(last)
    email = lookups.normalise_email(f"{local}@{rng.choice(EMAIL_DOMAINS)}")
    while email in emails:
        email = lookups.normalise_email(f"{local}{rng.randint(2, 99)}@{rng.choice(EMAIL_DOMAINS)}")
    emails.add(email)
    diagnosis = _pick(rng, DIAGNOSES, Diagnosis)
    relationship = _pick(rng, RELATIONSHIPS, Relationship)
    branch = _pick(rng, BRANCHES, VeteranBranch) if rng.random() < 0.25 else None
    place, city = lookups.lookup_zip(zip_code), " ".join(city)
    language = Language.es if first in SPANISH_SPEAKERS else Language.en
    return _Person(
        first, last, email, phone, place, city, diagnosis, relationship, branch, language
    )


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum())


def _lead(rng: random.Random, person: _Person, form: FormKind, earlier: LeadInput | None):
    """What this person types into this form; back again, they give what they gave before."""
    email = person.email if form == FormKind.guide or rng.random() < 0.75 else None
    phone_odds = {FormKind.guide: 0.5, FormKind.callback: 1.0, FormKind.specialist_match: 0.8}
    phone = person.phone if rng.random() < phone_odds[form] else None
    if earlier is not None:
        email, phone = email or earlier.email, phone or earlier.phone_e164
    email = email if email or phone else person.email
    zip_info = person.place
    if form != FormKind.specialist_match and rng.random() < 0.15:
        zip_info = None  # optional on these forms, and not everyone fills it in
    diagnosis = person.diagnosis
    if form == FormKind.specialist_match:
        diagnosis = diagnosis or Diagnosis.not_sure
    return LeadInput(
        form=form,
        first_name=person.first,
        last_name=person.last,
        email=email,
        phone_e164=phone,
        zip_code=zip_info.zip_code if zip_info else None,
        state=zip_info.state if zip_info else None,
        time_zone=zip_info.time_zone if zip_info else phone and lookups.time_zone_for_phone(phone),
        relationship=person.relationship if form == FormKind.guide else None,
        diagnosis=diagnosis,
        is_veteran=person.branch is not None,
        veteran_branch=person.branch,
        preferred_language=person.language,
        consents={
            ConsentChannel.calls_texts: form == FormKind.callback
            or (bool(phone) and rng.random() < 0.55),
            ConsentChannel.email: bool(email) and rng.random() < 0.85,
        },
        details=_details(rng, person, form),
        attribution=_attribution(rng),
    )


def _details(rng: random.Random, person: _Person, form: FormKind) -> dict:
    if form == FormKind.callback:
        message = rng.choice(_entries(MESSAGES)) if rng.random() < 0.45 else None
        return {"best_time": _pick(rng, BEST_TIMES, BestTime).value, "message": message}
    if form == FormKind.specialist_match:
        stage = _pick(rng, STAGES, CancerStage)
        treatment = rng.choice(TREATMENTS) if rng.random() < 0.4 else None
        return {"cancer_stage": stage and stage.value, "current_treatment": treatment}
    interests = ["treatment"] if rng.random() < 0.75 else []
    interests += ["financial"] if rng.random() < 0.4 else []
    interests += ["va_benefits"] if person.branch and rng.random() < 0.8 else []
    if rng.random() >= 0.08:
        return {"interests": interests, "printed_guide": False}
    address = {
        "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "line2": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else None,
        "city": person.city,
        "state": person.place.state,
        "zip": person.place.zip_code,
    }
    return {"interests": interests, "printed_guide": True, "mailing_address": address}


def _attribution(rng: random.Random) -> dict[str, str | None]:
    chosen = rng.choices(CAMPAIGNS, [campaign[0] for campaign in CAMPAIGNS])[0]
    _, source, medium, campaign, path, referrer = chosen
    query = f"?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}" if source else ""
    gclid = "Cj0KCQ" + "".join(rng.choices("abcdefghijkmnpqrstuvwxyzABCDEFGH0123456789", k=24))
    return {
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "utm_term": rng.choice(TERMS) if medium == "cpc" else None,
        "utm_content": rng.choice(("carousel-a", "video-b")) if medium == "paid" else None,
        "gclid": gclid if source == "google" else None,
        "landing_page": f"{SITE}{path}{query}",
        "referrer": referrer,
    }


def _meta(rng: random.Random, form: FormKind) -> RequestMeta:
    # Documentation address ranges (RFC 5737): never a real visitor's address.
    network = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return RequestMeta(
        ip_address=f"{network}.{rng.randint(1, 254)}",
        user_agent=rng.choice(_entries(USER_AGENTS)),
        page_url=f"{SITE}/embed/{form.value}",
    )


def _local_daytime(rng: random.Random, now: datetime, zone: ZoneInfo) -> datetime:
    """A time in the last 60 days, at an hour people fill in forms where they live."""
    local = (now - timedelta(days=rng.uniform(0, 60))).astimezone(zone)
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    at = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    at = at.astimezone(UTC)
    return at - timedelta(days=1) if at > now else at


def _settle_old_visits(visits: list[_Visit]) -> int:
    """Settle what all but the newest visits set in motion; return the emails left to send."""
    keys = [visit.key for visit in visits]
    rows = db.session.execute(
        sa.select(Submission.id, Submission.created_at).where(Submission.idempotency_key.in_(keys))
    ).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    # A real worker would have sent the rest weeks ago too. Left pending, hundreds would go out in
    # one burst on the first beat, fill the dev mailbox and muddle the speed-to-lead report,
    # so they are cancelled; the newest few stay pending to show a real email going out.
    recent = [row.id for row in sorted(rows, key=lambda row: row.created_at)[-RECENT:]]
    # The guide emails went out, though: the referrals and guides report counts them.
    deliver_old_guides([id_ for id_ in ids if id_ not in recent])
    pending = (OutboxMessage.status == OutboxStatus.pending) & OutboxMessage.submission_id.in_(ids)
    db.session.execute(
        sa.update(OutboxMessage)
        .where(pending, OutboxMessage.submission_id.not_in(recent))
        .values(status=OutboxStatus.cancelled)
        .execution_options(synchronize_session=False)
    )
    # Their callbacks were made long ago too (one attempt, when they were due);
    # left open, each would raise a missed-callback alert to the managers.
    db.session.execute(
        sa.update(CallTask)
        .where(
            CallTask.status == CallTaskStatus.open,
            CallTask.submission_id.in_(ids),
            CallTask.submission_id.not_in(recent),
        )
        .values(
            status=CallTaskStatus.done,
            attempts=1,
            first_attempt_at=CallTask.due_at,
        )
        .execution_options(synchronize_session=False)
    )
    left = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(pending))
    db.session.commit()
    return left or 0
