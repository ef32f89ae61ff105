"""A page cache for anonymous visitors, correct by construction (issue 15).

What it guarantees:

- Only a visitor with no state of their own is served from it or stored into it: a GET, not
  signed in, no cookie but the CSRF cookie, the cookie-choice cookie and the campaign cookie,
  and no session or an empty one (making cookie choices leaves an emptied session behind once
  its message was shown; reading it costs a query). A session holding anything (a cart, a
  sign-in, a message), a remembered sort or any cookie we do not know bypasses the cache: the
  page is rendered as before.
- The key holds everything else an anonymous page's HTML depends on: the catalogue stamp (a
  database counter that triggers bump on every product or category write, whatever the write
  path) and the database it counts, the announced policy version, host, scheme, full path
  with its query, the language, and the visitor's privacy frame exactly as the templates see
  it (privacy's context processor): whether the cookie banner shows, the choices made and for which cookie-list
  version, and Global Privacy Control.
- Stored HTML carries no CSRF token: every token input is replaced by a marker, and each
  answer gets the visitor's own token in its place (their cookie; CsrfViewMiddleware sets it
  when missing). Forms work without JavaScript and without any inline script.
- A response is stored only if it is a 200 HTML page, the view set no cookie, changed no
  session and queued no message. The page is rendered from the same state its key holds: the
  policy notice shows the version read with the stamp (`frame`), and the stamp only grows, so
  a write committed during a render can only put newer HTML under an older key, which no
  request asks for once it has read the new stamp.
- It sits on the view, inside every middleware: security headers, the consent effects
  (anonymous counts, the campaign cookie) and the CSRF cookie run for cached answers too; the
  product a page counts is stored with it and replayed.

A warm hit costs one SQL query (the stamp and the policy state, read together), and one more
for a visitor who has an (empty) session.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from privacy.context_processors import privacy as privacy_frame
from privacy.models import PolicyVersion

from .models import CatalogueStamp

# Cookies that never change an anonymous page's HTML except through the key: the CSRF cookie
# (its token is put in per answer), the cookie choices (in the key) and the campaign (no HTML).
NEUTRAL_COOKIES = frozenset({settings.CSRF_COOKIE_NAME, "cookie_consent", "mkt_campaign"})
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"<>]*">')
# Cannot come from page content: the templates escape "<" in every value they print.
CSRF_MARKER = "<!--pagecache:csrf-->"
TIMEOUT = 60 * 60  # bounds memory only: a change is seen through the key, never by expiry
HEADER = "X-Page-Cache"


@dataclass(frozen=True)
class CatalogueState:
    stamp: int | None
    policy: tuple[int | None, object]  # the announced policy version (id, effective date as stored)


def _state_columns() -> str:
    # Raw SQL, built once: compiling the equivalent ORM query (two subqueries) cost more than
    # answering a cached page. The policy rule is privacy's policy_upcoming: the earliest
    # published version not yet in force. Two parameters: now, twice.
    stamp, policy = CatalogueStamp._meta.db_table, PolicyVersion._meta.db_table
    upcoming = (f"FROM {policy} p WHERE p.published_at IS NOT NULL AND p.effective_at > %s "
                "ORDER BY p.effective_at, p.id LIMIT 1")
    return f"(SELECT s.value FROM {stamp} s WHERE s.id = 1), (SELECT p.id {upcoming}), (SELECT p.effective_at {upcoming})"


# The three columns of the state, for a query that reads them with other things (a signed-in
# request reads them with the user's row: shop.account.auth).
STATE_COLUMNS = _state_columns()
# No FROM: the announced policy is read even when the stamp's row is missing.
STATE_SQL = f"SELECT {STATE_COLUMNS}"


def state_params() -> list:
    """STATE_COLUMNS' parameters, for a query run now."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return [now, now]


def remember_state(request: HttpRequest, row) -> CatalogueState:
    """Keep STATE_COLUMNS' three values, read by another query during this request, as its state."""
    # stamp None: the row went (a database emptied by hand, a test's flush), so a change could not
    # be seen through it: nothing is served from or stored in a cache until the row is back.
    request._catalogue_state = state = CatalogueState(stamp=row[0], policy=(row[1], row[2]))
    return state


def catalogue_state(request: HttpRequest | None = None) -> CatalogueState:
    """The catalogue stamp and the announced policy version, in one query, kept on the request:
    the key, the policy notice and the fragment caches of one page all read the same state."""
    if request is not None and hasattr(request, "_catalogue_state"):
        return request._catalogue_state
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, state_params())
        row = cursor.fetchone()
    if request is None:
        return CatalogueState(stamp=row[0], policy=(row[1], row[2]))
    return remember_state(request, row)


def _database() -> str:
    # Read per call: test runners rename the database after import. In the key, so that shops
    # (or parallel test runs) sharing one cache server never read each other's pages.
    return str(connection.settings_dict.get("NAME"))


def _stamp_or_unique(state: CatalogueState) -> int | str:
    """What a fragment's key varies on: the stamp, or without one a value no other request has
    (the fragment is rendered, never reused)."""
    return state.stamp if state.stamp is not None else f"unstamped-{secrets.token_hex(8)}"


def catalogue_version(request: HttpRequest) -> str:
    """What {% cache %} fragments showing the catalogue vary on: the stamp and its database."""
    return f"{_database()}:{_stamp_or_unique(catalogue_state(request))}"


class _CountedPaginator(Paginator):
    def __init__(self, object_list, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property: set, never computed


def catalogue_page(request: HttpRequest, products, *, number, parts: tuple) -> Page:
    """Page `number` of `products`, with their count kept in the cache under the catalogue stamp
    and `parts` (what selects them: category, query): counting every product on sale reads the
    whole index on each request and grows with the catalogue, while the stamp changes with every
    product or category write, so a kept count is never out of date. Without a stamp it counts."""
    state = catalogue_state(request)
    key = None
    if state.stamp is not None:
        key = "catalogue-count:" + hashlib.sha256(repr((_database(), state.stamp, parts)).encode()).hexdigest()
    count = cache.get(key) if key else None
    if count is None:
        count = products.count()
        if key:
            cache.set(key, count, TIMEOUT)
    return _CountedPaginator(products, settings.SHOP_PAGE_SIZE, count=count).get_page(number)


def catalogue_read(request: HttpRequest, *, parts: tuple, read: Callable[[], object]) -> object:
    """`read()` (a catalogue lookup: a product by its slug), kept in the cache under the catalogue
    stamp and `parts`. The stamp is read first (or was, with the request's user): a write
    committed after it can only put newer data under an older stamp, which no request asks for
    once it has read the new one, so a kept answer is never older than the stamp it is read
    under, and every product or category write shows on the very next request. Without a stamp
    it reads. None is kept too (an unknown slug stays a 404 until the catalogue changes)."""
    state = catalogue_state(request)
    if state.stamp is None:
        return read()
    key = "catalogue-read:" + hashlib.sha256(repr((_database(), state.stamp, parts)).encode()).hexdigest()
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = read()
        cache.set(key, found, TIMEOUT)
    return found


_MISSING = object()


def frame(request: HttpRequest) -> dict:
    """Context for a page served through the cache (and its fragments): the policy notice from
    the state the page's key holds (overriding privacy's own lookup, same rule), and the
    catalogue stamp for {% cache %} fragments. Lazy: costs nothing until a template asks."""
    def policy():
        pk = catalogue_state(request).policy[0]
        return PolicyVersion.objects.filter(pk=pk).first() if pk is not None else None
    return {"policy_upcoming": SimpleLazyObject(policy),
            "catalogue_stamp": SimpleLazyObject(lambda: _stamp_or_unique(catalogue_state(request)))}


def _eligible(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    cookies = {name for name, value in request.COOKIES.items() if value}  # an emptied cookie holds nothing
    session_cookie = settings.SESSION_COOKIE_NAME in cookies
    if not NEUTRAL_COOKIES.issuperset(cookies - {settings.SESSION_COOKIE_NAME}):
        return False
    if session_cookie and list(request.session.keys()):  # one query; empty once a message was shown
        return False  # a cart, a sign-in, a message, anything: the page is theirs
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def _key(request: HttpRequest, state: CatalogueState) -> str:
    frame = privacy_frame(request)
    choice = frame["cookie_choice"]
    parts = (
        _database(), state.stamp, state.policy, request.get_host(), request.is_secure(), request.get_full_path(),
        get_language(), bool(frame["cookie_banner"]), bool(frame["gpc"]),
        choice.version if choice else None, sorted(choice.choices.items()) if choice and choice.current else None,
    )
    return "shop:page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    session = getattr(request, "session", None)
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and response.get("Content-Type", "").startswith("text/html")
            and not (session is not None and session.modified)
            and not getattr(getattr(request, "_messages", None), "added_new", False))


def _csrf_input(request: HttpRequest) -> str:
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'


def anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve `view` from the page cache to visitors without state of their own (see above)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _eligible(request):
            response = view(request, *args, **kwargs)
            response[HEADER] = "bypass"
            return response
        state = catalogue_state(request)
        if state.stamp is None:
            response = view(request, *args, **kwargs)
            response[HEADER] = "bypass"
            return response
        key = _key(request, state)
        entry = cache.get(key)
        if entry is not None:
            html, counted_product = entry
            if counted_product is not None:
                request.analytics_product = counted_product
            if CSRF_MARKER in html:
                html = html.replace(CSRF_MARKER, _csrf_input(request))
            response = HttpResponse(html, content_type="text/html; charset=utf-8")
            response[HEADER] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if _storable(request, response):
            html = CSRF_INPUT.sub(CSRF_MARKER, response.content.decode(response.charset))
            cache.set(key, (html, getattr(request, "analytics_product", None)), TIMEOUT)
        response[HEADER] = "miss"
        return response

    return wrapped
