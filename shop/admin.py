from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html

from privacy.admin import PersonalDataAdmin

from .models import Category, Product, User


@admin.register(User)
class UserAdmin(PersonalDataAdmin, BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["__str__", "is_staff", "is_active", "date_joined", "last_login"]
    masked_list_fields = ("email",)
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["=email"]  # the whole address: it is sealed, found by its blind index only
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    def has_delete_permission(self, request, obj=None) -> bool:
        """An account leaves through erasure (the privacy request or the person's own deletion),
        which anonymises their orders, messages and returns and destroys their data key. A plain
        delete would orphan those rows: the daily key sweep would then destroy the key of an
        account that no longer exists, and its orders would read as erased without having been
        anonymised by the registry's rules."""
        return False

    def user_change_password(self, request, id, form_url=""):
        """Django titles this page with the username (here the email): use the masked id instead."""
        response = super().user_change_password(request, id, form_url)
        if hasattr(response, "context_data") and response.context_data.get("original") is not None:
            response.context_data["title"] = f"Change password: {response.context_data['original']}"
            response.context_data["original"] = _MaskedUser(response.context_data["original"])
        return response


class _MaskedUser:
    """The user as the password page shows it: its hidden username field (for password managers)
    would otherwise carry the email in clear."""

    def __init__(self, user):
        self.pk = user.pk
        self._label = str(user)

    def __str__(self) -> str:
        return self._label

    def get_username(self) -> str:
        return self._label


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "stock", "is_active", "thumbnail"]
    list_filter = ["is_active", "category"]
    list_editable = ["price", "stock", "is_active"]
    list_select_related = ["category"]
    search_fields = ["name", "description", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_per_page = 50

    @admin.display(description="Image")
    def thumbnail(self, obj: Product) -> str:
        if not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" width="40" height="40">', obj.image.url)
