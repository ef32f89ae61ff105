"""Who is signed in, read with what every signed-in page asks, in one SQL statement (issue 15).

On PostgreSQL each query is a round trip to the server, and a signed-in page asked six of them
before its own content: the session, the user, the catalogue stamp and announced policy, the
pending policy acknowledgement, the personalisation consent (and restriction), the cart badge.
This middleware takes the place of django.contrib.auth's AuthenticationMiddleware and guarantees:

- Authentication is Django's, decided afresh from the database on every request, nothing kept
  in any process: the session is read by the session store (expiry, sign-out, "sign out other
  sessions", erasure delete or expire the row: the next request is anonymous), the user's row is
  read by id, the session's password hash is verified as django.contrib.auth.get_user does
  (fallback secrets included), and an inactive user is refused as ModelBackend refuses them.
  A backend that loads users its own way is asked through its own get_user.
- On a GET or HEAD of a signed-in user, the same statement also reads the frame's answers, each
  by the same rule as its own query (the SQL comes from the module that owns the rule): the
  catalogue stamp and announced policy (shop.pagecache), the pending acknowledgement
  (privacy.policy), the personalisation consent and restriction (privacy.consent), the cart count
  (shop.selectors). They are the database's state at the start of the request, kept for this
  request only (on the request or on this request's user object). Other methods, which may
  change those answers before the page is drawn, read the user's row alone.
- request.user is decided when the request arrives (every request of this shop asks it
  anyway), not lazily, so every later question sees the same user object.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.models import AnonymousUser
from django.db import connections, router
from django.utils.crypto import constant_time_compare

from privacy.consent import remember_user_consent, user_consent_sql
from privacy.models import ConsentRecord
from privacy.policy import pending_acknowledgement_sql, remember_pending_acknowledgement

from .. import pagecache, selectors

FRAME_METHODS = frozenset({"GET", "HEAD"})
PERSONALISATION = ConsentRecord.Purpose.PERSONALISATION


@dataclass(frozen=True)
class _Built:
    user: str  # the user's row by id
    frame: str  # the same, with the frame's columns
    frame_params: list  # the frame's parameters after pagecache.state_params()
    columns: str  # the user's columns and the frame's, over the aliases u (user)
    converters: list  # (index, converter, column): as the ORM converts each column it reads
    names: list  # the user model's field attnames, in row order


_built: dict[str, _Built] = {}  # per database alias


def _statements(connection) -> _Built:
    """The user's row (its Django-typed fields, in the model's order, converted as the ORM converts
    them) and the same with the frame's columns; built once per database."""
    built = _built.get(connection.alias)
    if built is None:
        user_model = get_user_model()
        # Fields of a type from outside Django (the encrypted name and phone) are left deferred:
        # reading one decrypts it through the key store, and the pages every request draws show
        # none of them. Code that reads one still gets it (Django loads a deferred field on use).
        fields = [f for f in user_model._meta.concrete_fields if type(f).__module__.startswith("django.")]
        qn = connection.ops.quote_name
        columns = ", ".join(f"u.{qn(f.column)}" for f in fields)
        converters = []
        for index, f in enumerate(fields):
            col = f.get_col("u")
            for convert in [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]:
                converters.append((index, convert, col))
        user_id = f"u.{qn(user_model._meta.pk.column)}"
        pending, pending_params = pending_acknowledgement_sql(user_column=user_id)
        consent, consent_params = user_consent_sql(purpose=PERSONALISATION, user_column=user_id)
        where = f" FROM {qn(user_model._meta.db_table)} u WHERE {user_id} = %s"
        with_frame = (f"{columns}, {pagecache.STATE_COLUMNS}, {pending}, {consent}, "
                      f"{selectors.cart_count_column(user_column=user_id)}")
        built = _Built(user=f"SELECT {columns}{where}", frame=f"SELECT {with_frame}{where}",
                       frame_params=pending_params + consent_params, columns=with_frame,
                       converters=converters, names=[f.attname for f in fields])
        _built[connection.alias] = built
    return built


def session_statement(connection, *, session_table: str) -> tuple[str, Callable[[str], list]] | None:
    """For the session store (shop.sessions): the session's data, the id of the user its row in
    allauth's session list names, that user's row and the frame's answers, in one statement:
    (sql, params for a session key). None when those tables are not all in this database."""
    user_model = get_user_model()
    if {router.db_for_read(user_model), router.db_for_read(UserSession)} != {connection.alias}:
        return None
    built, qn = _statements(connection), connection.ops.quote_name
    sql = (f"SELECT s.session_data, us.user_id, {built.columns} FROM {qn(session_table)} s "
           f"LEFT JOIN {qn(UserSession._meta.db_table)} us ON us.session_key = s.session_key "
           f"LEFT JOIN {qn(user_model._meta.db_table)} u ON u.{qn(user_model._meta.pk.column)} = us.user_id "
           "WHERE s.session_key = %s AND s.expire_date > %s")

    def params(session_key: str) -> list:
        now = pagecache.state_params()
        return [*now, *built.frame_params, session_key, now[0]]
    return sql, params


def _user_from_row(request, connection, row, *, with_frame: bool):
    """The user object from a row of _statements' columns; the frame's answers kept for this
    request when `with_frame`."""
    built = _statements(connection)
    names = built.names
    values = list(row[:len(names)])
    for index, convert, col in built.converters:
        values[index] = convert(values[index], col, connection)
    user = get_user_model().from_db(connection.alias, names, values)
    if with_frame:
        stamp, policy_id, policy_at, pending, granted, restricted, cart = row[len(names):len(names) + 7]
        pagecache.remember_state(request, (stamp, policy_id, policy_at))
        remember_pending_acknowledgement(user=user, policy_id=pending)
        remember_user_consent(user=user, purpose=PERSONALISATION, granted=granted, restricted=restricted)
        selectors.remember_cart_count(request, user_id=user.pk, count=cart)
    return user


def _load_user(request, user_id):
    """The user's row, and on a GET or HEAD the frame's answers, in one statement: the row the
    session store read with the session when it names this user, else one query; None if the
    user is gone."""
    with_frame = request.method in FRAME_METHODS
    read = getattr(request.session, "read_with_user", None)  # (user id, row), shop.sessions
    connection = connections[router.db_for_read(get_user_model())]
    if read is not None and read[0] is not None and read[0] == user_id:
        return _user_from_row(request, connection, read[1], with_frame=with_frame)
    built = _statements(connection)
    with connection.cursor() as cursor:
        if with_frame:
            cursor.execute(built.frame, [*pagecache.state_params(), *built.frame_params, user_id])
        else:
            cursor.execute(built.user, [user_id])
        row = cursor.fetchone()
    return None if row is None else _user_from_row(request, connection, row, with_frame=with_frame)


def get_user(request):
    """django.contrib.auth.get_user, with ModelBackend's user read done by _load_user."""
    user = None
    try:
        user_id = get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(backend_path)
            if type(backend).get_user is ModelBackend.get_user:
                user = _load_user(request, user_id)
                user = user if user is not None and backend.user_can_authenticate(user) else None
            else:
                user = backend.get_user(user_id)
            if hasattr(user, "get_session_auth_hash"):
                session_hash = request.session.get(HASH_SESSION_KEY)
                session_auth_hash = user.get_session_auth_hash()
                if not (session_hash and constant_time_compare(session_hash, session_auth_hash)):
                    if session_hash and any(constant_time_compare(session_hash, fallback)
                                            for fallback in user.get_session_auth_fallback_hash()):
                        request.session.cycle_key()
                        request.session[HASH_SESSION_KEY] = session_auth_hash
                    else:
                        request.session.flush()
                        user = None
    return user or AnonymousUser()


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with request.user read by get_user above when the request arrives."""

    def process_request(self, request):
        super().process_request(request)  # its checks, and request.auser
        request.user = get_user(request)
