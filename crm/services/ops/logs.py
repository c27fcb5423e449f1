"""Log lines as JSON or text, each carrying the request id or Celery task id it belongs to.

Ids only: what a line says is the code's own message (which names rows by id), never a
request's path, query or body, which may hold a person's name, email or what they typed.
"""

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from celery._state import get_current_task
from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's (a proxy's) request id is kept only when it is short and plain, so that a log
# line never carries whatever a client chose to put in a header.
_WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_id)s] %(message)s"
_HANDLER_NAME = "crm-console"
_base_factory = logging.getLogRecordFactory()


def request_id_from(header_value: str | None) -> str:
    if header_value and _WELL_FORMED_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def _record_with_ids(*args, **kwargs) -> logging.LogRecord:
    """Every record, whichever handler gets it (caplog too), knows its request and task."""
    record = _base_factory(*args, **kwargs)
    record.request_id = (g.get("request_id") or "") if has_request_context() else ""
    task = get_current_task()
    record.task_id = (task.request.id or "") if task is not None else ""
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id/task_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "task_id"):
            if getattr(record, name, ""):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _ProcessStderrHandler(logging.StreamHandler):
    """Writes to the process's own stderr (file descriptor 2), whatever sys.stderr is now:
    Celery's worker points sys.stderr at a logger (a line would loop back into logging) and
    test runners swap it per test."""

    def __init__(self):
        super().__init__(sys.__stderr__)

    @property
    def stream(self):
        return sys.__stderr__

    @stream.setter
    def stream(self, value):
        pass


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return logging.Formatter(_TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be json or text, not {log_format!r}")


def configure_logging(config) -> None:
    """One console handler on the root logger, in the configured format (replaced, not added,
    when another app is built in the same process). Celery's worker finds the root logger
    configured and adds no handler of its own."""
    logging.setLogRecordFactory(_record_with_ids)
    root = logging.getLogger()
    for handler in [each for each in root.handlers if each.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _ProcessStderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter_for(config["LOG_FORMAT"]))
    handler.setLevel(config["LOG_LEVEL"])
    root.addHandler(handler)
    root.setLevel(min(root.getEffectiveLevel(), handler.level))


def track_request_ids(app: Flask) -> None:
    """Each request takes the caller's id (if well formed) or a new one, and returns it."""

    def log_exception(exc_info) -> None:
        # Flask's own line names the path, which may carry a token: the endpoint instead.
        endpoint = request.endpoint or "unmatched"
        app.logger.error("Exception in %s [%s]", endpoint, request.method, exc_info=exc_info)

    app.log_exception = log_exception

    @app.before_request
    def take_request_id():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))

    @app.after_request
    def return_request_id(response):
        if g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
