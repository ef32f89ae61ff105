"""Django's database sessions, read with one prepared statement, and a bound on the notices they
keep (issue 15).

Every signed-in request reads its session; through the ORM, building that one SELECT cost about
as much as a whole anonymous cached page. This store is django.contrib.sessions' database store
with only the read replaced by the same query in plain SQL: same table, same rows, same expiry
rule (a session past its expiry date reads as none), same writes and deletions. Signing out,
"sign out everywhere else" (allauth deletes the rows) and expiry take effect on the very next
request as before: nothing is remembered outside the database.

The same statement also reads, through allauth's session list, the row of the user it names for
this session and the page frame's answers (shop.account.auth builds it; the user is used only if
it is the session's own), so a signed-in page makes one query before its content.
"""
from __future__ import annotations

import logging

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from django.utils import timezone

from .account import auth


class _Row:
    __slots__ = ("session_data",)

    def __init__(self, session_data: str):
        self.session_data = session_data


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        # With the session, the row of the user allauth's session list names for it and the page
        # frame's answers (shop.account.auth checks that it is the session's own user).
        with_user = auth.session_statement(connection, session_table=model._meta.db_table)
        self.read_with_user = None
        try:
            key = self.session_key
            with connection.cursor() as cursor:
                if with_user is None:
                    cursor.execute(f"SELECT session_data FROM {connection.ops.quote_name(model._meta.db_table)} "
                                   "WHERE session_key = %s AND expire_date > %s",
                                   [key, connection.ops.adapt_datetimefield_value(timezone.now())])
                else:
                    cursor.execute(with_user[0], with_user[1](key))
                row = cursor.fetchone()
        except SuspiciousOperation as e:
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            row = None
        if row is None:
            self._session_key = None
            return None
        if with_user is not None:
            self.read_with_user = (row[1], row[2:])
        return _Row(row[0])


class RecentMessagesStorage(SessionStorage):
    """Django's session message storage, keeping only the newest MAX_KEPT notices not yet shown.
    A client that posts without reading the page it is sent to (a script, a double-click, a
    bench) would otherwise grow its session by one notice per request, and every later request
    would decode and re-encode all of them."""

    MAX_KEPT = 10

    def _store(self, messages, response, *args, **kwargs):
        return super()._store(messages[-self.MAX_KEPT:], response, *args, **kwargs)


# The tag a view gives a notice that holds nothing about the person (a product's name, "Your cart
# was updated"): only such notices may travel in the signed `messages` cookie.
PUBLIC = "public"


def _public(message) -> bool:
    return PUBLIC in (message.extra_tags or "").split()


class NoticeStorage(BaseStorage):
    """Notices tagged PUBLIC go to the next page in Django's signed cookie; every other notice
    (one that may name the person: an email address, an order) stays in the session, never in a
    cookie. Adding to the cart then writes no session row: that second write transaction per add
    queued the web workers behind each other (issue 15). Both parts are read on every page, so
    notices keep their meaning and are shown once; the cookie is deleted once it has been shown."""

    def __init__(self, request, *args, **kwargs):
        self.cookie = CookieStorage(request, *args, **kwargs)
        self.session = RecentMessagesStorage(request, *args, **kwargs)
        super().__init__(request, *args, **kwargs)

    def _get(self, *args, **kwargs):
        from_cookie, _ = self.cookie._get()
        from_session, _ = self.session._get()
        return [*(from_cookie or []), *(from_session or [])], True

    def _store(self, messages, response, *args, **kwargs):
        public, unstored = [m for m in messages if _public(m)][-RecentMessagesStorage.MAX_KEPT:], []
        if public or self.cookie.cookie_name in self.request.COOKIES:  # else no Set-Cookie at all
            unstored = self.cookie._store(public, response) or []
        return self.session._store([*unstored, *(m for m in messages if not _public(m))], response)
