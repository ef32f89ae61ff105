"""Real Celery processes for the stack tests: the integration folder's fixtures."""
from tests.integration.conftest import celery, pytest_runtest_makereport, shared_database  # noqa: F401
