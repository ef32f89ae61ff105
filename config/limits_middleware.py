"""No request body larger than SHOP_MAX_REQUEST_BYTES is read.

A declared Content-Length above the cap is answered 413 at once, before anything (CSRF, the
form, the upload handlers) touches the body. A chunked body (no Content-Length) is read up to
the cap and no further: past it, 413; within it, the view sees it as an ordinary body.
Middleware runs before any view or process_view reads the body, so its place in MIDDLEWARE only
needs the session and user set for the page frame. Under ASGI Django reads the whole body before
any middleware; the shop runs under gunicorn (WSGI), and the TLS proxy should refuse such bodies
too (see README, Production).
"""
from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.shortcuts import render

CHUNK = 64 * 1024


def too_large(request):
    mb = 1024 * 1024
    return render(request, "413.html", {"limit_mb": max(1, settings.SHOP_MAX_REQUEST_BYTES // mb),
                                        "attachment_mb": max(1, settings.SHOP_ATTACHMENT_MAX_BYTES // mb)}, status=413)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cap = settings.SHOP_MAX_REQUEST_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                if int(declared) > cap:
                    return too_large(request)
            except ValueError:
                pass  # Django reads such a body as empty
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and "wsgi.input" in request.META:
            body = self._read_capped(request.META["wsgi.input"], cap)
            if body is None:
                return too_large(request)
            # Django reads a body without Content-Length as empty: hand it what was read, now measured.
            size = body.seek(0, 2)
            body.seek(0)
            request.META["CONTENT_LENGTH"] = str(size)
            request._stream = LimitedStream(body, size)
        return self.get_response(request)

    @staticmethod
    def _read_capped(stream, cap: int):
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        read = 0
        while True:
            chunk = stream.read(min(CHUNK, cap + 1 - read))
            if not chunk:
                return body
            read += len(chunk)
            if read > cap:
                body.close()
                return None
            body.write(chunk)
