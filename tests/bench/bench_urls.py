"""URLs for the storefront benchmark's ceiling server only (see ceiling_wsgi.py): the shop's
own URLs plus one view that does nothing, to measure what Django and the middleware cost."""
from django.http import HttpResponse
from django.urls import include, path


def ceiling(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("__bench_ceiling__", ceiling, name="bench_ceiling"),
    path("", include("config.urls")),
]
