"""Celery bound to the Flask app, as Flask's "Background Tasks with Celery" page shows."""

import logging

from celery import Celery, Task
from celery.signals import after_setup_logger
from flask import Flask

# Beat wakes the relay every two seconds: "sending", "received" and "succeeded" lines for each
# wake-up would bury the lines that matter (our services log each email sent or failed).
_PER_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace", "celery.beat")


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks each run inside the Flask app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    # Importing registers them.
    from crm.tasks import callbacks, chats, ops, outbox, privacy, rollups, spam  # noqa: F401

    return celery_app


@after_setup_logger.connect
def _quiet_per_task_lines(logger, loglevel, **kwargs):
    if loglevel > logging.DEBUG:
        for name in _PER_TASK_LOGGERS:
            logging.getLogger(name).setLevel(max(loglevel, logging.WARNING))
