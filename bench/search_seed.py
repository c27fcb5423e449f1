"""A million varied contacts in one INSERT ... SELECT FROM generate_series, for bench.search.

Names come from arrays indexed by a hash of the row number, skewed so that a few names are
common (as Smith and Maria are) and most are rare; accented and apostrophe names included.
Row g is the same in every database seeded with this statement, so the first 10,000 rows
of the million are the 10,000-contact database: the same queries find the same people.
"""


def words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = words(
    """Maria James John Mary Robert Patricia Michael Jennifer William Linda David
Elizabeth Richard Barbara Joseph Susan Thomas Jessica Charles Sarah Christopher Karen Daniel
Lisa Matthew Nancy Anthony Betty Mark Sandra Donald Margaret Steven Ashley Paul Kimberly Andrew
Emily Joshua Donna Kenneth Michelle Kevin Carol Brian Amanda George Melissa Timothy Deborah
Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy
José Ana Juan Carmen Luis Rosa Jorge Lucía Carlos Sofía Miguel Isabel Ángel Inés Nguyễn Thị
Wei Mei Hiroshi Yuki Ahmed Fatima Olga Dmitri Zoë Chloé Renée André Jürgen Søren Siobhán Seán
Aoife Mateo Valentina Santiago Camila Diego Lucas Ethan Noah Liam Olivia Emma Ava Mia"""
)

LAST_NAMES = words(
    """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson
White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres
Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez
Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
Castillo Sanders Patel Myers Long Ross Foster Jiménez Peña García Núñez Muñoz Álvarez Müller
Schröder Nguyễn Trần Lê Phạm O'Brien O'Connor D'Angelo McCarthy MacDonald Dubois Lefèvre
Kowalski Nowak Novák Svensson Øberg Åberg Takahashi Yamamoto Chen Wang Zhang Liu Singh Khan
Ivanova Petrov Okafor Mensah Haddad Cohen Levi Rossi Russo Bianchi Costa Silva Santos"""
)

DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com", "comcast.net"]
AREA_CODES = [201, 212, 213, 214, 215, 216, 301, 302, 303, 304, 305, 312, 313, 404, 405, 410]
AREA_CODES += [412, 415, 504, 512, 602, 614, 617, 702, 713, 718, 720, 801, 813, 816, 901, 916]
OPEN_STAGES = ["new", "new", "new", "attempting", "contacted", "qualified", "referred"]


def _array(values) -> str:
    quoted = ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)
    return f"ARRAY[{quoted}]"


def row_hash(seed: int, row: str = "g") -> str:
    return f"abs(hashint8extended({row}, {seed}))"


def pick(values, seed: int, skew: float = 1.0, row: str = "g") -> str:
    """values[u ** skew * len], u in [0, 1) hashed from the row (skew > 1: a long tail)."""
    u = f"({row_hash(seed, row)} % 1000000)::float8 / 1000000"
    return f"({_array(values)})[1 + floor(power({u}, {skew}) * {len(values)})::int]"


def _digits(seed: int, low: int, count: int, width: int, row: str) -> str:
    return f"lpad(({low} + {row_hash(seed, row)} % {count})::text, {width}, '0')"


# One household in twenty shares the phone of the row before (families share phones).
_HOUSEHOLD = f"(g - ({row_hash(9)} % 20 = 0)::int)"
_PHONE = " || ".join(
    [
        "'+1'",
        pick(AREA_CODES, 5, row=_HOUSEHOLD),
        _digits(6, 200, 800, 3, row=_HOUSEHOLD),
        _digits(7, 0, 10000, 4, row=_HOUSEHOLD),
    ]
)

_CONTACTS_SQL = f"""
INSERT INTO contacts (first_name, last_name, email, phone_e164, stage, is_veteran,
                      submission_count, last_submitted_at, created_at, updated_at{{names}})
SELECT first_name, last_name,
       -- four in five gave an email, every one unique; one in ten gave no phone
       CASE WHEN {row_hash(3)} % 5 <> 0 THEN
         regexp_replace(lower(first_name), '[^a-z]', '', 'g') || '.'
         || regexp_replace(lower(last_name), '[^a-z]', '', 'g') || g || '@'
         || {pick(DOMAINS, 4)}
       END AS email,
       CASE WHEN {row_hash(3)} % 5 = 0 OR {row_hash(8)} % 10 <> 0
         THEN {_PHONE}
       END AS phone_e164,
       {pick(OPEN_STAGES, 10)} AS stage, {row_hash(11)} % 8 = 0 AS is_veteran, 1 AS submissions,
       at AS last_submitted_at, at AS created_at, at AS updated_at{{values}}
FROM (
  SELECT g, {pick(FIRST_NAMES, 1, skew=1.3)} AS first_name,
         {pick(LAST_NAMES, 2, skew=1.3)} AS last_name,
         now() - (:contacts - g) * interval '20 seconds' AS at
  FROM generate_series(1, :contacts) AS g
) AS rows
"""


def contacts_sql(columns: dict[str, str] | None = None) -> str:
    """The seed statement, with more contact columns as SQL over the row number g if given."""
    columns = columns or {}
    names = "".join(f", {name}" for name in columns)
    values = "".join(f",\n       {value} AS {name}" for name, value in columns.items())
    return _CONTACTS_SQL.format(names=names, values=values)


SEED_SQL = contacts_sql()

# What each contact sent and what followed, so the contact page reads real rows: one guide
# request, its email consent and its "created" event (ids follow the contacts' one to one).
RELATED_SQL = [
    """
    INSERT INTO submissions (public_id, form, contact_id, is_reengagement, fields, created_at)
    SELECT 'bench-' || id, 'guide', id, false,
           '{"interests": ["treatment"], "printed_guide": false}', created_at
    FROM contacts ORDER BY id
    """,
    """
    INSERT INTO consent_records (contact_id, submission_id, form, channel, granted, text,
                                 text_version, recorded_at)
    SELECT contact_id, id, form, 'email', true, 'You may email me the guide.', 'bench',
           created_at
    FROM submissions ORDER BY id
    """,
    """
    INSERT INTO timeline_events (contact_id, submission_id, kind, actor_kind, detail, created_at)
    SELECT contact_id, id, 'created', 'visitor', '{}', created_at FROM submissions ORDER BY id
    """,
]
