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
