import uuid

from .audit import request_id_var


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


class CoarseClientMiddleware:
    """Before anything can store it (allauth's session list), the user agent is cut down to
    "browser on system"; the IP is truncated by the account adapter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .network import coarse_user_agent

        request.META["HTTP_USER_AGENT"] = coarse_user_agent(request.META.get("HTTP_USER_AGENT"))
        return self.get_response(request)
