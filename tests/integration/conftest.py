"""Real Celery processes for integration tests (marked ``integration``).

`celery` starts ``python -m celery -A config worker`` and ``... beat`` as subprocesses that
share everything the test process uses:

- the database: the test's own database. On PostgreSQL that is the test database on the same
  server (``test_shop``, ``test_shop_gw0`` under xdist). On SQLite pytest-django's test database
  lives in this process's memory, where no subprocess can see it, so `shared_database` copies
  it into a file for the test (SQLite's backup API, a few milliseconds) and points this
  process's connection at that file until the test ends; the in-memory database is kept open,
  untouched, and comes back afterwards. This works whatever ran before in the session (a
  session-scoped ``django_db_modify_db_settings`` override in this folder would only take
  effect when an integration test is the first to set up the database, and would put every
  other test of the session on a file database);
- the broker: ``CELERY_BROKER_URL`` from the environment (Redis in CI), otherwise kombu's
  filesystem broker under this process's ``SHOP_VAR_DIR`` (a temporary folder under
  ``SHOP_ENV=test``), whose queue is emptied before and after each test. xdist workers share
  that queue (they inherit SHOP_VAR_DIR and CELERY_BROKER_URL), so a file lock lets one
  integration test at a time use it;
- the keys: ``SHOP_ENV=test`` makes throw-away keys per process, so the subprocesses get this
  process's SECRET_KEY, CRYPTOGRAPHY_KEY and BLIND_INDEX_KEY, or they could not read what the
  test wrote;
- the private and media folders (per test, see tests/conftest.py);
- email: a file backend (``EMAIL_URL=filemail://``) in a folder the test reads (`celery.emails()`).

This process publishes to the broker for real during these tests (task_always_eager off).
Every wait is bounded; every process is stopped (SIGTERM, then SIGKILL to its process group)
when the test ends, and their logs are added to the report of a failing test.
"""
from __future__ import annotations

import contextlib
import email
import fcntl
import hashlib
import importlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.db import connections

START_TIMEOUT = 30  # seconds for a worker to be ready
LOCK_TIMEOUT = 600  # seconds to wait for another test (another xdist worker) using the same broker
STOP_TIMEOUT = 20  # seconds for a process to exit after SIGTERM
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # written by Django's file email backend after each message


def _app():
    from config import celery_app

    return celery_app


def broker_is_redis() -> bool:
    return _app().conf.broker_url.startswith(("redis://", "rediss://"))


def database_url(alias: str = "default") -> str:
    """The URL of the database this process is connected to, for django-environ."""
    conn = connections[alias]
    db = conn.settings_dict
    if conn.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"  # an absolute path: sqlite:////tmp/...
    if conn.vendor == "postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = quote(db["HOST"] or "", safe="")  # a socket folder is percent-encoded
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(f"integration tests do not support {conn.vendor}")


def keystore_url() -> str:
    """The key store's URL (privacy.protection.keystore): workers open the same data keys."""
    return database_url("keys")


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """The test's database, reachable by other processes; yields its DATABASE_URL.

    Set up after (and torn down before) `transactional_db`, so pytest-django's flush at the
    end of the test runs on the original database."""
    shared = []  # the shop's database and the key store's, each copied to a file if in memory
    for alias in ("default", "keys"):
        conn = connections[alias]
        if conn.vendor != "sqlite" or not conn.is_in_memory_db():
            continue
        path = tmp_path / f"{alias}.sqlite3"
        conn.ensure_connection()
        memory = conn.connection
        target = sqlite3.connect(path)
        try:
            memory.backup(target)
        finally:
            target.close()
        shared.append((conn, conn.settings_dict["NAME"], memory))
        conn.connection = None  # not closed: closing would drop the in-memory database
        conn.settings_dict["NAME"] = str(path)
    try:
        yield database_url()
    finally:
        for conn, name, memory in shared:
            conn.close()
            conn.settings_dict["NAME"] = name
            conn.connection = memory


class Broker:
    """The broker this process and the Celery subprocesses share."""

    def __init__(self):
        self.app = _app()
        self.queue = self.app.conf.task_default_queue
        self.redis = broker_is_redis()

    def pending(self) -> int:
        """Messages waiting in the queue (not those a worker holds)."""
        with self.app.connection_for_write() as conn:
            try:
                return conn.default_channel.queue_declare(self.queue, passive=True).message_count
            except conn.channel_errors:  # Redis: an empty queue is no key at all
                return 0

    def unacked(self) -> int:
        """Redis only: messages delivered to a worker and not acknowledged yet."""
        if not self.redis:
            return 0
        with self.app.connection_for_write() as conn:
            channel = conn.default_channel
            return channel.client.hlen(channel.unacked_key)

    def purge(self) -> None:
        with self.app.connection_for_write() as conn:
            channel = conn.default_channel
            channel.queue_purge(self.queue)
            if self.redis:  # and what a killed worker left unacknowledged
                channel.client.delete(channel.unacked_key, channel.unacked_index_key)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Process:
    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(args, cwd=settings.BASE_DIR, env=env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)  # its own process group
        self.pid = self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def children(self) -> list[int]:
        return _children(self.pid)

    def kill(self) -> int:
        """SIGKILL to the whole process group (the worker and its pool processes)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.popen.wait(timeout=STOP_TIMEOUT)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM (Celery's warm shutdown); SIGKILL to the group if it is still there after
        `timeout`. Returns the exit status of a process that stopped on SIGTERM, else None."""
        if self.running:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        try:  # pool processes outliving their parent
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.popen.returncode


def raw_cryptography_key() -> str:
    """CRYPTOGRAPHY_KEY as the settings module set it: django-cryptography replaces the setting
    with a key derived from it when the app loads, and a subprocess must derive the same."""
    raw = importlib.import_module(os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")).CRYPTOGRAPHY_KEY
    kdf = PBKDF2HMAC(algorithm=settings.CRYPTOGRAPHY_DIGEST, length=settings.CRYPTOGRAPHY_DIGEST.digest_size,
                     salt=settings.CRYPTOGRAPHY_SALT, iterations=30000)
    assert kdf.derive(raw.encode()) == settings.CRYPTOGRAPHY_KEY, "CRYPTOGRAPHY_KEY was changed after start-up"
    return raw


class CeleryProcesses:
    """Starts `celery -A config worker|beat` sharing this test's database, broker, keys,
    private folder and an email folder."""

    def __init__(self, *, database_url: str, tmp_path: Path):
        self.tmp = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.logs = tmp_path / "celery-logs"
        self.logs.mkdir()
        self.processes: list[Process] = []
        self.broker = Broker()
        self.started = time.monotonic()
        self.timeline: list[str] = []  # what happened when, for the report of a failing test
        env = {k: v for k, v in os.environ.items()
               if k not in {"DATABASE_URL", "KEYSTORE_DATABASE_URL", "PRIVACY_PURGE_EVERY_SECONDS",
                            "CRYPTOGRAPHY_OLD_KEYS"}
               and not k.startswith(("PYTEST_", "COV_"))}
        env.update({
            "SHOP_ENV": "test",
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            "DATABASE_URL": database_url,
            "KEYSTORE_DATABASE_URL": keystore_url(),  # the per-person data keys
            "SHOP_VAR_DIR": str(settings.VAR_DIR),  # the filesystem broker lives in VAR_DIR/broker
            "SHOP_PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
            "SHOP_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECRET_KEY": settings.SECRET_KEY,
            "CRYPTOGRAPHY_KEY": raw_cryptography_key(),
            "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # django-environ drops one leading slash
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        if settings.CRYPTOGRAPHY_OLD_KEYS:
            env["CRYPTOGRAPHY_OLD_KEYS"] = ",".join(settings.CRYPTOGRAPHY_OLD_KEYS)
        self.env = env

    # --- processes ---------------------------------------------------------------------

    def note(self, event: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:7.2f}s {event}")

    def _start(self, name: str, args: list[str], env: dict | None) -> Process:
        log = self.logs / f"{len(self.processes):02d}-{name}.log"
        process = Process(name, [sys.executable, "-m", "celery", "-A", "config", *args],
                          {**self.env, **(env or {})}, log)
        self.processes.append(process)
        self.note(f"started {name} (pid {process.pid})")
        return process

    def worker(self, name: str = "worker", *, concurrency: int = 1, env: dict | None = None,
               wait: bool = True) -> Process:
        process = self._start(name, ["worker", "--loglevel=INFO", f"--hostname={name}-{os.getpid()}@%h",
                                     f"--concurrency={concurrency}", "--pool=prefork",
                                     "--without-gossip", "--without-mingle", "--without-heartbeat"], env)
        if wait:
            self.wait_for_log(process, " ready.", timeout=START_TIMEOUT)
        return process

    def beat(self, *, env: dict | None = None) -> Process:
        return self._start("beat", ["beat", "--loglevel=INFO", "--max-interval=1", "--pidfile=",
                                    "--scheduler=django_celery_beat.schedulers:DatabaseScheduler"], env)

    def stop(self, process: Process) -> int | None:
        running = process.running
        code = process.stop()
        if running:
            self.note(f"{process.name} stopped: exit {code}")
        return code

    def kill(self, process: Process) -> int:
        code = process.kill()
        self.note(f"{process.name} killed: exit {code}")
        return code

    def stop_all(self) -> dict[str, int | None]:
        return {p.name: self.stop(p) for p in self.processes}

    # --- waiting -----------------------------------------------------------------------

    def wait_until(self, condition, *, timeout: float, what: str, interval: float = 0.1,
                   watch: list[Process] | None = None):
        """Polls `condition` until it returns something truthy (returned), at most `timeout`
        seconds; fails early if a watched process (default: all started) exits."""
        deadline = time.monotonic() + timeout
        watched = self.processes if watch is None else watch
        while True:
            value = condition()
            if value:
                self.note(what)
                return value
            dead = [p.name for p in watched if not p.running]
            if dead:
                pytest.fail(f"waiting for {what}: {', '.join(dead)} exited")
            if time.monotonic() > deadline:
                pytest.fail(f"waiting for {what}: nothing after {timeout} s")
            time.sleep(interval)

    def wait_for_log(self, process: Process, text: str, *, timeout: float, count: int = 1) -> None:
        self.wait_until(lambda: process.output().count(text) >= count, timeout=timeout,
                        what=f"{text.strip()!r} ×{count} in the {process.name} log", watch=[process])

    # --- what the processes did --------------------------------------------------------

    def emails(self) -> list[email.message.Message]:
        """Every email the subprocesses sent, in the order they were written."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            for raw in path.read_bytes().split(MAIL_SEPARATOR):
                if raw.strip():
                    found.append(email.message_from_bytes(raw))
        return found

    @staticmethod
    def task_events(process: Process, task: str, event: str) -> int:
        """How many times `process` logged `event` ("received", "succeeded in") for `task`."""
        return sum(1 for line in process.output().splitlines() if f"Task {task}[" in line and f"] {event}" in line)

    def task_errors(self, process: Process) -> list[str]:
        """Log lines of tasks that failed or will be retried after an error."""
        return [line for line in process.output().splitlines()
                if " retry: Retry in " in line or " raised unexpected: " in line]

    def report(self) -> list[tuple[str, str]]:
        logs = [(f"{p.name} (pid {p.pid}, exit {p.popen.returncode})", p.output()) for p in self.processes]
        return [("timeline", "\n".join(self.timeline)), *logs]


@contextlib.contextmanager
def broker_lock():
    """One test at a time per broker queue. pytest-xdist workers share it: they inherit the
    controller's SHOP_VAR_DIR (so the filesystem broker's folder) and CELERY_BROKER_URL."""
    if broker_is_redis():  # one lock file per Redis URL (hashed: it may hold a password)
        digest = hashlib.sha256(_app().conf.broker_url.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"shop-celery-{digest}.lock"
    else:  # removed with the test run's SHOP_VAR_DIR
        path = Path(settings.BROKER_DIR) / "integration-tests.lock"
    deadline = time.monotonic() + LOCK_TIMEOUT
    with open(path, "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test held the broker for {LOCK_TIMEOUT} s ({path})")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def celery(request, shared_database, settings, tmp_path):
    """Real Celery processes on this test's database; this process publishes to the broker."""
    app = _app()
    eager = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    with broker_lock():
        processes = CeleryProcesses(database_url=shared_database, tmp_path=tmp_path)
        request.node.celery_processes = processes
        processes.broker.purge()
        try:
            yield processes
        finally:
            try:
                processes.stop_all()
            finally:
                app.conf.task_always_eager = eager
                processes.broker.purge()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    processes = getattr(item, "celery_processes", None)
    if report.failed and processes is not None:
        for title, text in processes.report():
            report.sections.append((f"Celery {title}", text[-20000:] or "(no output)"))
    return report
