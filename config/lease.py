"""One run at a time of a periodic task, however many beats sent it.

Exactly one beat should run, but a second one started by mistake (a deploy that forgot to stop
the old one, two hosts both configured to run it) sends every periodic task twice, at the same
moment. Each periodic task therefore takes a lease named after it on the shared cache (Redis in
production, shared by every worker host) before it works, and a run that finds the lease taken
does nothing and says so. The lease expires on its own after `seconds`, so a worker killed
mid-run blocks the task for that long at most; choose it above the task's longest run.

The lease is the first line only: the services behind these tasks are idempotent and lock the
rows they change (a cache flush that loses a lease makes two runs slower, not wrong). The
retention purge keeps its own lease in the database as well (privacy.retention.purge).
With the local default's per-process memory cache the lease holds between threads of one
process only; the local default runs one worker process per task anyway.
"""
from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.core.cache import cache

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def lease(name: str, *, seconds: int) -> Iterator[bool]:
    """Yields True when this caller holds the lease `name` (released on exit, only if still
    its own), False when someone else holds it. `cache.add` is atomic on Redis and memcached."""
    key, token = f"lease:{name}", secrets.token_hex(16)
    if not cache.add(key, token, timeout=seconds):
        yield False
        return
    try:
        yield True
    finally:
        if cache.get(key) == token:  # expired and taken by another run meanwhile: not ours to free
            cache.delete(key)


def one_at_a_time(*, seconds: int) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorator for a periodic task's function (under @shared_task): the lease is named after
    the function, and a run that cannot take it returns None without calling it."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with lease(name, seconds=seconds) as held:
                if not held:
                    log.info("%s skipped: another run holds its lease", name)
                    return None
                return func(*args, **kwargs)

        return run

    return decorate
