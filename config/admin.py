"""The staff admin: staff sign in through the same allauth flow as customers, and no admin
page opens for a staff account without two-factor authentication."""
from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.shortcuts import redirect


class ShopAdminSite(admin.AdminSite):
    site_header = "Privacy-first Shop — staff"
    site_title = "Shop staff"
    index_title = "Run the shop"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and is_mfa_enabled(user))

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and user.is_active and user.is_staff and not is_mfa_enabled(user):
                messages.warning(request, "Staff accounts need two-factor authentication before opening the "
                                          "admin: set up an authenticator app to continue.")
                return redirect("mfa_activate_totp")
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        return secure_admin_login(super().login)(request, extra_context)
