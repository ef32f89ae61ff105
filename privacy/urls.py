from django.urls import path

from config import converters  # noqa: F401  (registers ref, signed, token, version)

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.policy_page, name="policy"),
    path("privacy/versions/<version:version>/", views.policy_version, name="version"),
    path("privacy/versions/<version:version>/changes/", views.policy_diff, name="diff"),
    path("privacy/versions/<version:version>/acknowledge/", views.policy_acknowledge, name="acknowledge"),
    path("privacy/cookies/", views.cookie_settings, name="cookies"),
    path("privacy/emails/confirm/<token:token>/", views.marketing_confirm, name="marketing_confirm"),
    path("privacy/emails/unsubscribe/<token:token>/", views.unsubscribe, name="unsubscribe"),
    path("privacy/contact/", views.contact, name="contact"),
    path("privacy/my-data/", views.guest_export, name="guest_export"),
    path("privacy/my-data/confirm/<token:token>/", views.guest_export_confirm, name="guest_export_confirm"),
    path("privacy/my-data/download/<token:token>/", views.guest_download, name="guest_download"),
    path("account/privacy/", views.dashboard, name="dashboard"),
    path("account/privacy/export/", views.export_start, name="export_start"),
    path("account/privacy/download/<signed:signed>/", views.export_download, name="export_download"),
    path("account/privacy/delete/", views.delete_account, name="delete_account"),
    path("account/privacy/delete/cancel/", views.delete_account_cancel, name="delete_account_cancel"),
    path("account/privacy/restriction/", views.restriction_toggle, name="restriction"),
    path("account/privacy/consents/", views.consent_update, name="consent_update"),
]
