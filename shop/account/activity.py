"""Where a customer is signed in, kept current without a write on every page (issue 15).

allauth's UserSessionsMiddleware (USERSESSIONS_TRACK_ACTIVITY) rewrote the session's row on every
signed-in request: a write transaction (BEGIN, two SELECTs, an UPDATE) on each GET. On SQLite the
web workers then queued behind each other's write lock, which made most of a signed-in page's time
and its p99. This middleware takes its place and guarantees:

- A session's row is written as before (allauth's own create_from_request, with its
  session_client_changed signal) on the first signed-in request a process sees for it, whenever
  the client changes (another network or browser, as CoarseClientMiddleware already coarsened
  them: the row and its signal follow the change on that very request), and otherwise at most
  once per USERSESSIONS_ACTIVITY_INTERVAL seconds. "Last active" on the sessions page is that many
  seconds old at most; the decay and retention rules reading last_seen_at count in days.
- Nothing else changes: signing out elsewhere deletes the session itself, so the next request of
  that browser is anonymous whatever is remembered here, and sign-in still records the session
  through allauth's user_logged_in receiver.

What is remembered is a key in the shared cache: a hash of the session key, the user's id and the
coarse client, holding the time of the last write (nothing personal); it expires after the interval.
"""
from __future__ import annotations

import hashlib
import time

from allauth.usersessions import app_settings
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache

INTERVAL = 5 * 60  # seconds; settings.USERSESSIONS_ACTIVITY_INTERVAL overrides


def _seen_key(request) -> str:
    client = "\x1f".join((request.session.session_key or "", str(request.user.pk),
                          request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_USER_AGENT", "")))
    return "shop:session-seen:" + hashlib.sha256(client.encode()).hexdigest()


class SessionActivityMiddleware:
    """allauth's session-activity tracking, written at most once per interval per session and client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (app_settings.TRACK_ACTIVITY and hasattr(request, "session") and request.session.session_key
                and hasattr(request, "user") and request.user.is_authenticated):
            key, interval = _seen_key(request), getattr(settings, "USERSESSIONS_ACTIVITY_INTERVAL", INTERVAL)
            written, now = cache.get(key), time.time()
            # The time of the last write decides, not the cache's own expiry (a Redis key expires on
            # the server's clock; the expiry only bounds memory).
            if written is None or now - written >= interval:
                UserSession.objects.create_from_request(request)
                cache.set(key, now, interval)
        return self.get_response(request)
