"""The baseline for bench.followups: a bare Celery task that sends one outbox row's email.

The same rendering and SMTP work as the relay path (`email_content.compose`,
`mail.build_message`, `mail.deliver`, inside the Flask app context as the app's own tasks
run), and nothing else: no claim, no lock, no status, no attempt count, no timeline. It
reads the row and never writes it, so a round of it leaves the rows as they were.

Its own Celery app, on the project's CELERY settings (same broker, acks_late, prefetch 1)
but its own queue, so a worker of it never takes the real app's tasks or the reverse:

    celery -A bench.followups_raw worker --concurrency=2
"""

from celery import Celery

from crm.extensions import db
from crm.models import OutboxMessage
from crm.services import email_content, mail
from wsgi import app as flask_app

QUEUE = "bench-followups-raw"
TASK = "bench_followups_raw.send"

# Not the current app: shared tasks (outbox.*) must keep resolving to the real app's.
app = Celery("bench_followups_raw", set_as_current=False)
app.config_from_object({**flask_app.config["CELERY"], "task_default_queue": QUEUE})


@app.task(name=TASK, ignore_result=True)
def send(message_id: int) -> None:
    with flask_app.app_context():  # what the app's FlaskTask does around every task
        send_in_context(message_id)


def send_in_context(message_id: int) -> None:
    """Render and send the row's email, as delivery.deliver_outbox_message does, and stop."""
    message = db.session.get(OutboxMessage, message_id)
    mail.deliver(mail.build_message(email_content.compose(message)))
