"""The hostile sweep (issue 12, section 3): no hostile byte makes the shop answer 5xx.

Every URL pattern the resolver knows (the authorization matrix's `walk`, with the matrix's world
and its valid URLs) is requested with each of its path parameters in turn replaced by hostile
values, the others left valid; then a sample of pages gets the same values in its query string
and in each cookie the shop reads. Everything is requested anonymously, as a customer and as
every staff role. No response may be 5xx.

The values are what PostgreSQL or a converter chokes on: a NUL byte (PostgreSQL refuses it in
text), 10,000 characters, a lone surrogate and an overlong UTF-8 sequence (raw bytes, as a
browser or a script can send them), non-ASCII digits, a number beyond 64 bits. So the sweep
means something only on PostgreSQL, where CI (.ci/run) runs it; it runs on SQLite too.

Each request runs in a savepoint rolled back afterwards, with the visitor's cookies restored:
one failure cannot hide the next, and no request's effects leak into another's. Each test prints
its size (URLs × values × visitors) and its 5xx count.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import quote_from_bytes, unquote

import pytest
from django.db import transaction
from django.urls import reverse

from tests.security.test_authorization_matrix import STAFF_ROLES, build_matrix, build_world, walk

pytestmark = [pytest.mark.django_db,
              # a 10,000-digit date filter ("1111…") is parsed as a naive datetime: a warning, not a fault
              pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")]

VISITORS = ["anonymous", "owner", *STAFF_ROLES]  # the owner: a customer with orders, addresses, requests

# name -> raw bytes of the hostile value, built from the valid value it replaces
HOSTILE = {
    "NUL": lambda valid: valid + b"\x00",
    "10,000 characters": lambda valid: (valid * (10_000 // max(len(valid), 1) + 1))[:10_000],
    "lone surrogate": lambda valid: valid + "\ud800".encode("utf-8", "surrogatepass"),
    "overlong UTF-8": lambda valid: valid + b"\xc0\x80",  # an overlong NUL
    "non-ASCII digits": lambda valid: "\u0661\u0662\uff13".encode(),  # Arabic-Indic 1 2, fullwidth 3
    "beyond 64 bits": lambda valid: b"9" * 25,
}

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^()]*\)")


def fill(route: str, values: dict[str, str]) -> str:
    """The URL of `route` (as `walk` spells it: path() converters and re_path() groups) with each
    parameter replaced by values[name], already percent-encoded."""
    return "/" + PARAM.sub(lambda m: values[m.group(1) or m.group(2)], route).replace("^", "").replace("$", "")


def encode(raw: bytes) -> str:
    return quote_from_bytes(raw, safe="")


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    failures: list = None

    def __post_init__(self):
        self.failures = []


@pytest.fixture
def world(settings):
    settings.PAYMENT_GATEWAY = "offline"
    world = build_world()
    for client in world.clients.values():
        client.raise_request_exception = False  # a 500 is counted, not raised
    return world


def request(world, visitor: str, url: str, result: Result, *, cookie_header: str | None = None, what: str = ""):
    """GET url as visitor, in a savepoint rolled back afterwards; the visitor's cookies are kept."""
    client = world.clients[visitor]
    saved = SimpleCookie()
    saved.update(client.cookies)
    extra = {"HTTP_COOKIE": cookie_header} if cookie_header is not None else {}
    try:
        with transaction.atomic():
            response = client.get(url, **extra)
            transaction.set_rollback(True)
    finally:
        client.cookies = saved
    result.requests += 1
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        reason = f"{exc[0].__name__}: {str(exc[1])[:100]}" if exc else ""
        result.failures.append(f"{response.status_code}  {visitor:<16} {what:<18} {url[:110]}  {reason}")
    return response


def report(capsys, title: str, size: str, result: Result) -> None:
    with capsys.disabled():
        print(f"\n{title}: {size} = {result.requests} requests, {len(result.failures)} answered 5xx, "
              f"{result.seconds:.1f} s")
    assert not result.failures, f"{len(result.failures)} of {result.requests} requests answered 5xx:\n" + "\n".join(
        result.failures[:60])


# --- path parameters ---------------------------------------------------------------------------

def parametrised_routes(world) -> dict[str, str]:
    """route -> a valid URL of it (from the authorization matrix), for every route with parameters."""
    valid = {}
    for target in build_matrix(world).targets:
        valid.setdefault(target.route, target.url)
    routes = {}
    for route, name, _ in walk():
        if PARAM.search(route):
            assert route in valid, f"{route} ({name}) has no valid URL: add it to the authorization matrix"
            routes[route] = valid[route]
    return routes


def valid_values(route: str, url: str) -> dict[str, str]:
    """The (percent-encoded) value of each parameter in this valid URL of route."""
    names = [m.group(1) or m.group(2) for m in PARAM.finditer(route)]
    pattern = PARAM.sub(lambda m: "(.+?)" if m.group(1) else f"({m.group(0)[len(m.group(2)) + 5:-1]})", route)
    match = re.fullmatch("/" + pattern.replace("^", "").replace("$", ""), url.split("?")[0])
    assert match, (route, url)
    return dict(zip(names, match.groups(), strict=True))


def test_hostile_path_parameters_never_answer_5xx(world, capsys):
    result, started = Result(), time.monotonic()
    routes = parametrised_routes(world)
    slots = 0
    for route, url in routes.items():
        values = valid_values(route, url)
        assert unquote(fill(route, values)) == unquote(url.split("?")[0]), (route, url)
        for name, value in values.items():
            slots += 1
            for label, make in HOSTILE.items():
                if label == "beyond 64 bits" and not value.isdigit():
                    continue  # a number only where a number is expected
                hostile = fill(route, {**values, name: encode(make(unquote(value).encode()))})
                for visitor in VISITORS:
                    request(world, visitor, hostile, result, what=label)
    result.seconds = time.monotonic() - started
    assert len(routes) > 140  # every parametrised pattern, not a sample
    report(capsys, "hostile path parameters",
           f"{slots} parameters of {len(routes)} URL patterns × {len(HOSTILE)} values (numbers only where numeric) × "
           f"{len(VISITORS)} visitors", result)


# --- query strings -------------------------------------------------------------------------------

# Pages and the query parameters each reads. The shop's pages read theirs independently, so each
# hostile value goes into all of them at once; the admin's list filters, search, ordering, page and
# autocomplete read request.GET directly and stop at the first bad one, so those go one at a time.
QUERY_PAGES = [
    ("shop:home", {}, ["utm_campaign"]),
    ("shop:product_list", {}, ["q", "page", "sort", "category"]),
    ("orders:checkout", {}, ["address"]),
    ("orders:support", {}, ["order"]),
    ("privacy:contact", {}, ["order", "kind"]),
    ("privacy:cookies", {}, ["next"]),
    ("orders:mine", {}, ["page"]),
    ("admin:orders_order_changelist", {}, ["q", "status__exact", "o", "p", "paid_at__gte", "e"]),
    ("admin:shop_user_changelist", {}, ["q", "is_staff__exact"]),
    ("admin:privacy_accesslogentry_changelist", {}, ["q", "action__exact", "at__gte"]),
    ("admin:privacy_policyversion_changelist", {}, ["q"]),
    ("admin:autocomplete", {"app_label": "orders", "model_name": "order", "field_name": "user"},
     ["term", "page", "app_label", "model_name", "field_name"]),
]


def query_url(path: str, fixed: dict, hostile: dict[str, bytes]) -> str:
    pairs = {**{k.encode(): v.encode() for k, v in fixed.items()}, **{k.encode(): v for k, v in hostile.items()}}
    return f"{path}?{'&'.join(f'{encode(k)}={encode(v)}' for k, v in pairs.items())}"


def test_hostile_query_strings_never_answer_5xx(world, capsys):
    result, started = Result(), time.monotonic()
    urls = []
    for name, fixed, params in QUERY_PAGES:
        path = reverse(name)
        groups = [[p] for p in params] if name.startswith("admin:") else [params]
        for group in groups:
            for make in HOSTILE.values():
                urls.append(query_url(path, fixed, {p: make(fixed.get(p, "1").encode()) for p in group}))
        urls.append(query_url(path, fixed, {"\x00": b"1"}))  # a parameter whose name is a NUL
    for url in urls:
        for visitor in VISITORS:
            request(world, visitor, url, result, what="query string")
    result.seconds = time.monotonic() - started
    report(capsys, "hostile query strings",
           f"{len(urls)} query strings on {len(QUERY_PAGES)} pages ({len(HOSTILE)} values) × {len(VISITORS)} visitors",
           result)


# --- cookies -----------------------------------------------------------------------------------------

COOKIE_PAGES = ["shop:home", "shop:product_list", "account:center", "admin:index"]
# Every cookie the shop reads (privacy/consent/cookies.py lists them), and one it does not.
COOKIES = ["csrftoken", "cookie_consent", "prefs_sort", "mkt_campaign", "unknown"]
COOKIE_VALUES = {**HOSTILE, "quoted NUL": None}  # "\000" in a quoted value: Python's cookie parser makes it NUL


def cookie_header(client, names: list[str], label: str) -> str:
    """The visitor's own cookies with `names` set to the hostile value, as raw header bytes (a
    WSGI server hands them to Django decoded as Latin-1)."""
    jar = {k: m.coded_value.encode() for k, m in client.cookies.items()}
    for name in names:
        valid = jar.get(name, b"a" * 32)
        jar[name] = b'"' + valid + b'\\000"' if COOKIE_VALUES[label] is None else COOKIE_VALUES[label](valid)
    return b"; ".join(k.encode() + b"=" + v for k, v in jar.items()).decode("latin-1")


def test_hostile_cookies_never_answer_5xx(world, capsys):
    """The session cookie on its own (a bad one signs the visitor out), then all the others at once
    (with the visitor's session intact)."""
    result, started = Result(), time.monotonic()
    for page in COOKIE_PAGES:
        url = reverse(page)
        for label in COOKIE_VALUES:
            for visitor in VISITORS:
                for names in (["sessionid"], COOKIES):
                    header = cookie_header(world.clients[visitor], names, label)
                    request(world, visitor, url, result, cookie_header=header, what=label)
    result.seconds = time.monotonic() - started
    report(capsys, "hostile cookies",
           f"{len(COOKIE_PAGES)} pages × {len(COOKIES) + 1} cookies (session alone, the rest together) × "
           f"{len(COOKIE_VALUES)} values × {len(VISITORS)} visitors", result)
