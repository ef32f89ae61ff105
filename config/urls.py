from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("orders.urls")),
    path("", include("shop.urls")),
]
if settings.SERVE_MEDIA:
    # Public product images only; private files live outside MEDIA_ROOT and have no URL.
    urlpatterns += [re_path(r"^media/(?P<path>products/.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
