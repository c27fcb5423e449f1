"""What bench.claims adds to bench.search's contacts: zones, consents, due calls, advocates.

Every contact gets a US time zone (weighted roughly by population, Alaska, Hawaii and
Puerto Rico included, so that calling hours rule some out at any hour of the day), one in
ten a peritoneal diagnosis (one in eight is a veteran already), and a calls consent from
its submission: granted by most, refused by one in thirty. One contact in nine with a phone
and no refusal (the hash decides which: about 100k calls at 1M, 1k at 10k) owes a call: a mix
of reasons and best-time slots, due at some moment of the last two weeks.
"""

from bench.search_seed import pick, row_hash

ZONES = (
    ["America/New_York"] * 45
    + ["America/Chicago"] * 25
    + ["America/Denver"] * 6
    + ["America/Phoenix"] * 3
    + ["America/Los_Angeles"] * 16
    + ["America/Anchorage"] * 2
    + ["Pacific/Honolulu"] * 2
    + ["America/Puerto_Rico"] * 1
)
DIAGNOSES = ["peritoneal"] + ["pleural"] * 6 + ["not_sure"] * 2 + ["other"]
REASONS = ["requested_callback"] * 3 + ["call_back_at"] + ["new_lead"] * 4 + ["retry"] * 2
BEST_TIMES = ["asap"] * 4 + ["morning"] * 2 + ["afternoon"] * 2 + ["evening"] * 2

COLUMNS = {
    "time_zone": pick(ZONES, 31),
    "diagnosis": pick(DIAGNOSES, 32),
}

# Tied to each contact's guide submission (a consent record has a source).
CONSENT_SQL = f"""
INSERT INTO consent_records (contact_id, submission_id, form, channel, granted, text,
                             text_version, recorded_at)
SELECT contact_id, id, form, 'calls_texts', {row_hash(33, "id")} % 30 <> 0,
       'You may call or text me.', 'bench', created_at
FROM submissions ORDER BY id
"""

# One contact in nine with a phone owes a call, due in the last two weeks: all due now. None
# to a contact who refused calls: the app never makes that call, and cancels any open ones
# when someone refuses (crm/services/do_not_contact.py).
CALL_TASKS_SQL = f"""
INSERT INTO call_tasks (contact_id, reason, best_time, due_at, status, attempts, created_at)
SELECT id, {pick(REASONS, 34, row="id")}, {pick(BEST_TIMES, 35, row="id")},
       now() - ({row_hash(36, "id")} % 1209600) * interval '1 second', 'open', 0,
       now() - interval '15 days'
FROM contacts WHERE {row_hash(37, "id")} % 9 = 0 AND phone_e164 IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM consent_records r WHERE r.contact_id = contacts.id
                  AND r.channel = 'calls_texts' AND NOT r.granted)
ORDER BY id
"""

# Ten advocates who press Next call in the claim benchmark: two know VA benefits, two
# peritoneal cases, one both, one speaks Spanish; the rest route to anyone.
SKILLS = [
    ["va_benefits"],
    ["va_benefits"],
    ["peritoneal"],
    ["peritoneal"],
    ["va_benefits", "peritoneal"],
    ["spanish"],
    [],
    [],
    [],
    [],
]
CLAIMERS = len(SKILLS)


def advocates_sql() -> str:
    """INSERT the claim benchmark's advocates (they never sign in: any hash will do)."""
    rows = ",\n".join(
        f"('bench-claimer-{n}@example.org', 'Claimer {n}', 'advocate', 'x', true, "
        f"""'{str(skills).replace("'", '"')}', '["en"]', now(), now())"""
        for n, skills in enumerate(SKILLS, 1)
    )
    return (
        "INSERT INTO users (email, name, role, password_hash, active, skills, languages,"
        f" created_at, updated_at) VALUES\n{rows}"
    )
