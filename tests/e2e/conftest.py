"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test collected under tests/e2e/
- is marked ``e2e`` and runs with ``django_db(transaction=True)`` (the live server runs in
  another thread, so data must really be committed for it to see it, and on_commit hooks fire);
- gets the ``live_server`` and a browser context whose ``base_url`` is the live server, so
  ``page.goto("/cart/")`` works;
- fails if the browser tried to reach anything but the live server: every request is routed
  through :class:`NetworkGuard`, which aborts and records the others (our pages promise no
  third-party requests).

``snap(page, "label")`` saves a full-page screenshot to
tests/artifacts/screenshots/<test-name>-<label>.png (gitignored).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent / "artifacts" / "screenshots"
GUARD_KEY = pytest.StashKey["NetworkGuard"]()


# --- collection ------------------------------------------------------------------------

@pytest.hookimpl(tryfirst=True)  # before pytest-django groups tests by their django_db marker
def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the session, not only ours: filter by path.
    for item in items:
        if HERE not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(autouse=True)
def _e2e_live_server(live_server):
    """Every browser test runs against the live server (and so on a transactional database)."""
    return live_server


# --- browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium, not a Playwright download (which does not work here)."""
    if not (CHROMIUM.is_file() and CHROMIUM.stat().st_mode & 0o111):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}, which is missing. Run the "
            "README's test command, `./dev test` (it installs it), or `apt-get install chromium`.",
            pytrace=False,
        )
    return {"executable_path": str(CHROMIUM), "headless": True, "args": list(CHROMIUM_ARGS)}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "timezone_id": "UTC",
        "service_workers": "block",
    }


class NetworkGuard:
    """Lets requests to the live server through; aborts and records every other one."""

    def __init__(self, allowed_origin: str):
        parts = urlsplit(allowed_origin)
        self.allowed = (parts.scheme, parts.hostname, parts.port)
        self.blocked: list[str] = []
        self.contexts: list = []

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"}:
            return True
        try:
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return False
        return (parts.hostname in LOCAL_HOSTS and self.allowed[1] in LOCAL_HOSTS
                and (parts.scheme, port) == (self.allowed[0], self.allowed[2]))

    def handle(self, route, request) -> None:
        if self.allows(request.url):
            route.continue_()
        else:
            self.blocked.append(f"{request.method} {request.url} ({request.resource_type})")
            route.abort("blockedbyclient")

    def watch(self, context) -> None:
        context.route("**/*", self.handle)
        self.contexts.append(context)

    def settle(self) -> None:
        """A round trip to each open context, so route events already sent are handled."""
        for context in self.contexts:
            try:
                context.cookies()
            except Exception:  # closed already
                pass


@pytest.fixture
def network_guard(request, live_server):
    guard = NetworkGuard(live_server.url)
    request.node.stash[GUARD_KEY] = guard
    return guard


@pytest.fixture
def new_context(new_context, network_guard):
    """pytest-playwright's factory, with every context it makes watched by the guard."""
    def _new_context(**kwargs):
        context = new_context(**kwargs)
        network_guard.watch(context)
        return context

    return _new_context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    guard = item.stash.get(GUARD_KEY, None)
    try:
        result = yield
    except BaseException as exc:
        if guard is not None:
            guard.settle()
            if guard.blocked:
                exc.add_note("Requests to hosts other than the live server were blocked:\n  "
                             + "\n  ".join(guard.blocked))
        raise
    if guard is not None:
        guard.settle()
        if guard.blocked:
            pytest.fail("The browser tried to reach something other than the live server "
                        "(our pages must make no third-party requests):\n  " + "\n  ".join(guard.blocked),
                        pytrace=False)
    return result


# --- screenshots -----------------------------------------------------------------------

@pytest.fixture
def snap(request):
    """``snap(page, "checkout")`` → tests/artifacts/screenshots/<test-name>-checkout.png"""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")

    def _snap(page, label: str) -> Path:
        safe_label = re.sub(r"[^\w.-]+", "_", label)
        path = SCREENSHOTS / f"{test_name}-{safe_label}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return _snap


@pytest.fixture(autouse=True)
def _migration_data(_e2e_live_server):
    """Transactional tests flush the database after each test, taking the data that migrations
    put there with it (staff roles, the shipped privacy policy): restore it before each test."""
    from django.apps import apps as django_apps

    from privacy.models import PolicyVersion
    from privacy.protection.roles import sync_roles

    sync_roles(django_apps)
    if not PolicyVersion.objects.exists():
        import importlib

        importlib.import_module("privacy.migrations.0004_default_policy").create(django_apps, None)
