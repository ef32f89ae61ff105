"""No email address in any log line. The filter sits on every handler (Django's LOGGING and,
in Celery workers, Celery's own handlers): it redacts addresses from the message, from the
formatted traceback and from stack information before any formatter sees the record. Code
should not log personal data in the first place; this is the net under it, for the library
messages we do not write (a mail server's refusal, a task's retry reason, a message body)."""
from __future__ import annotations

import logging
import logging.config
import re

# Local part, "@" (or its URL encoding), a dotted domain whose last label has a letter (so a
# URL's "user:**@127.0.0.1" stays). \w is Unicode-aware: non-ASCII addresses are caught too.
# "/", "=", "?", "&" are left out of the local part (rare there, common around an address in a
# URL), so the rest of a logged URL stays readable.
# The local part is capped at RFC 5321's 64 characters: unbounded, a long run of word characters
# without "@" (a 10,000-character URL in a "Not Found" line) cost quadratic time (0.7 s).
EMAIL = re.compile(r"[\w.!#$%'*+^~-]{1,64}(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[\w-]*[^\W\d_][\w-]*", re.IGNORECASE)
REDACTED = "[email redacted]"


def redact(text: str) -> str:
    if "@" not in text and "%40" not in text:  # most lines: one linear scan, no regex
        return text
    return EMAIL.sub(REDACTED, text)


class RedactEmails(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_handlers(logger: logging.Logger) -> None:
    """Put the filter on each of `logger`'s handlers (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactEmails) for f in handler.filters):
            handler.addFilter(RedactEmails())


def configure(config: dict) -> None:
    """LOGGING_CONFIG: Django's logging set-up, then the filter on every handler configured by
    then (Django's own defaults included: the runserver request log, the admins' mail)."""
    logging.config.dictConfig(config)
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]:
        redact_handlers(logger)


# --- JSON lines (production) ---------------------------------------------------------------
# In production every handler writes one JSON object per line (structlog renders it), carrying
# the request id of the request being served, so one request's lines can be found across hosts.
# The fields are fixed: time, level, logger, event (the message, emails redacted by the filter
# above), request_id, and the already-redacted traceback. structlog would otherwise format the
# exception again from exc_info, past the filter: the chain below only ever uses exc_text.


class RequestId(logging.Filter):
    """Adds `record.request_id` from a context variable named by its dotted path (the request
    id lives in privacy's audit package; config sits below privacy, so it is looked up here by
    name rather than imported)."""

    def __init__(self, source: str = "privacy.audit.log.request_id_var"):
        super().__init__()
        self.source, self._var = source, None

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs an error response after the middleware has returned (and reset the
        # variable), but hands the request over: its id is the one X-Request-ID carried.
        request_id = getattr(getattr(record, "request", None), "id", None)
        if isinstance(request_id, str):
            record.request_id = request_id
            return True
        if self._var is None:
            from django.utils.module_loading import import_string
            try:
                self._var = import_string(self.source)
            except ImportError:  # apps not loaded yet (very early start-up lines)
                record.request_id = ""
                return True
        record.request_id = self._var.get()
        return True


def _from_record(_logger, _method_name, event_dict):
    record: logging.LogRecord = event_dict["_record"]
    event_dict.pop("exc_info", None)
    event_dict.pop("stack_info", None)
    event_dict["request_id"] = getattr(record, "request_id", "")
    if record.exc_text:
        event_dict["exception"] = record.exc_text  # redacted by RedactEmails
    if record.stack_info:
        event_dict["stack"] = record.stack_info
    return event_dict


class JsonFormatter(logging.Formatter):
    """One JSON object per line (structlog's ProcessorFormatter), emails redacted once more on
    the whole line as a last net for any field."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        import structlog

        self._inner = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
                _from_record,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(sort_keys=True),
            ],
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record))
