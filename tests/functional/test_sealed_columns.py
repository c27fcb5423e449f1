"""Free text reaches the database sealed, reads back whole, and rotates to a new key."""

import sqlalchemy as sa

from crm.crypto import key_id_of, new_key_entry
from crm.extensions import db
from crm.models import Contact, Note, Submission
from crm.models.enums import Role
from crm.services import notes
from crm.services.sealed_columns import sealed_columns
from tests.factories import make_user
from tests.forms import CALLBACK

SECRET = "canary-7f3a: my father worked at the shipyard in 1968"


def raw_values(table: str, column: str) -> list[str]:
    """The stored text of a column, read with plain SQL past the models."""
    return db.session.scalars(sa.text(f"SELECT {column} FROM {table} ORDER BY id")).all()


def a_contact() -> Contact:
    contact = Contact(first_name="Ann", last_name="Lee", email="ann@example.com")
    db.session.add(contact)
    db.session.flush()
    return contact


def test_every_free_text_column_is_sealed():
    assert {sealed.name for sealed in sealed_columns()} >= {
        "submissions.fields",
        "suspected_spam.fields",
        "guide_fulfilments.mailing_address",
        "notes.body",
        "calls.note",
        "stage_changes.reason",
        "chat_messages.body",
    }


def test_a_visitors_words_are_stored_sealed_and_read_back_whole(forms, app_ctx):
    forms.submit("/callback", {**CALLBACK, "message": SECRET})

    (stored,) = raw_values("submissions", "fields")
    assert stored.startswith("enc1:dev:")
    assert "shipyard" not in stored and "James" not in stored
    (fields,) = db.session.scalars(sa.select(Submission.fields)).all()
    assert fields["message"] == SECRET


def test_a_note_is_sealed_and_rotates_to_a_new_key(app, app_ctx, config_override):
    contact = a_contact()
    notes.add_note(contact.id, make_user(Role.advocate).id, SECRET)
    db.session.commit()
    assert key_id_of(raw_values("notes", "body")[0]) == "dev"

    new = new_key_entry("k2026")
    config_override(DATA_KEYS=f"{new},{app.config['DATA_KEYS']}")
    result = app.test_cli_runner().invoke(args=["crm", "rotate-keys", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert "notes.body: 1 re-sealed" in result.output
    assert key_id_of(raw_values("notes", "body")[0]) == "k2026"
    # The old key can go now: everything opens with the new one alone.
    config_override(DATA_KEYS=new)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Note.body)) == SECRET
    again = app.test_cli_runner().invoke(args=["crm", "rotate-keys"])
    assert "Done: 0 values" in again.output


def test_rows_written_before_sealing_are_sealed_by_rotation(app, app_ctx):
    contact = a_contact()
    db.session.add(Submission(form="guide", contact_id=contact.id, fields={}))
    db.session.commit()
    # A bulk load (or a database from before 0022) put plain JSON in the column.
    db.session.execute(sa.text("UPDATE submissions SET fields = :plain"), {"plain": '{"a": 1}'})
    db.session.commit()
    assert db.session.scalar(sa.select(Submission.fields)) == {"a": 1}

    result = app.test_cli_runner().invoke(args=["crm", "rotate-keys"])

    assert "submissions.fields: 1 re-sealed" in result.output
    assert raw_values("submissions", "fields")[0].startswith("enc1:dev:")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Submission.fields)) == {"a": 1}


def test_append_only_tables_keep_their_guard_after_rotation(app, app_ctx, config_override):
    contact = a_contact()
    notes.add_note(contact.id, make_user(Role.advocate).id, SECRET)
    db.session.commit()
    config_override(DATA_KEYS=f"{new_key_entry('k2')},{app.config['DATA_KEYS']}")
    app.test_cli_runner().invoke(args=["crm", "rotate-keys"])

    try:
        db.session.execute(sa.text("UPDATE notes SET body = 'x'"))
        db.session.commit()
        changed = True
    except sa.exc.DBAPIError:
        db.session.rollback()
        changed = False
    assert changed is False
