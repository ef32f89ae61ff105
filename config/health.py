"""The health endpoint for the proxy and the orchestrator (django-health-check).

GET /healthz/ answers 200 when the database, the cache, the Celery broker and file storage all
work, 500 naming the failed part otherwise. It shows no personal data (only the check names and
their status), sets no cookie and never caches. `?format=json` or `Accept: application/json` for
machines.
"""
from __future__ import annotations

import dataclasses

from celery import current_app
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (works with every transport, no worker needed)."""

    def run(self) -> None:
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as error:  # any transport error means "cannot queue tasks"
            raise ServiceUnavailable(f"broker unreachable ({type(error).__name__})") from error


health = HealthCheckView.as_view(checks=(
    "health_check.checks.Database",
    "health_check.checks.Cache",
    Broker,
    "health_check.checks.Storage",
))
