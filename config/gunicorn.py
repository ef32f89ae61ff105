"""gunicorn's settings in production: `gunicorn -c python:config.gunicorn config.wsgi`.

gunicorn's own lines (start, worker boot and timeout, shutdown) come out as JSON like the shop's
(config/logs.py), emails redacted; there is no access log, so no client address is ever written
(the proxy keeps none either; a request is found by its X-Request-ID)."""
accesslog = None
# gunicorn 24+ opens a control socket at one fixed path per user: two processes on a host would
# fight over it, and nothing of ours uses it.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "filters": {"redact_emails": {"()": "config.logs.RedactEmails"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact_emails"],
                          "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
                "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False}},
}
