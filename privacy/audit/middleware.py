"""The request id the access log records."""
from __future__ import annotations

import uuid

from privacy.audit.log import request_id_var


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID) that the access log records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response
