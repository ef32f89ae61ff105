"""The guard at the door: characters no database can store never get past it.

PostgreSQL refuses a NUL byte in text and no database can hold half a UTF-16 surrogate pair, so
a value carrying one makes its query fail wherever it ends up: an admin filter or autocomplete
term read straight from the query string, the session key read from its cookie on every page.
Rather than each view defending itself, this middleware (first after SecurityMiddleware):

* answers 400 (templates/400.html, which echoes nothing) when the query string (names or
  values) or a request header other than Cookie holds such a character — no legitimate client
  sends one;
* drops a cookie whose name or value holds one, as if it had not been sent, and asks the
  browser to forget it: a corrupted cookie costs the visitor a session, not every page.

Path parameters are the URL converters' job (config/converters.py). Form bodies are the forms':
Django's CharField refuses NUL with a message on the field (ProhibitNullCharactersValidator).
"""
from __future__ import annotations

import logging
import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader

log = logging.getLogger(__name__)

UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 6265 token: a name a response can clear


def unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


class HostileInputGuard:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._query_is_unstorable(request) or any(
                unstorable(value) for key, value in request.META.items()
                if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str)):
            # Which part, never the value: it may be anything.
            log.info("request refused: a character no database can store in its query string or headers")
            return HttpResponseBadRequest(loader.render_to_string("400.html"))
        dropped = [name for name, value in request.COOKIES.items() if unstorable(name) or unstorable(value)]
        if dropped:
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if k not in dropped}
        response = self.get_response(request)
        for name in dropped:
            if COOKIE_NAME.fullmatch(name) and name not in response.cookies:
                response.delete_cookie(name)
        return response

    @staticmethod
    def _query_is_unstorable(request: HttpRequest) -> bool:
        return any(unstorable(key) or any(unstorable(v) for v in values) for key, values in request.GET.lists())
