"""Pytest plugin loaded first (``-p config.testenv``): selects the test environment
before pytest-django imports the settings, so that a bare ``pytest`` is always safe."""
import os

os.environ.setdefault("SHOP_ENV", "test")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's live_server tests
