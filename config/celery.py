import os

from celery import Celery, signals

from .logs import redact_handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _redact_emails(logger, **kwargs):
    """A worker replaces the root logger's handlers with its own: they redact addresses too."""
    redact_handlers(logger)
