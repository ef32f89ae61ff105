from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.http import require_GET
from django.views.static import serve

from .health import health


@require_GET
def product_media(request, path):
    # Public product images only; private files live outside MEDIA_ROOT and have no URL.
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page links: answer with the shop's icon, not a 404.
    return redirect(static("img/favicon.ico"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz/", health, name="health"),  # for the proxy: no personal data, never cached
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("privacy.urls")),
    path("account/", include("shop.account.urls")),
    path("", include("orders.urls")),
    path("", include("shop.urls")),
]
if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>products/[\w.\-]+)$", product_media)]
