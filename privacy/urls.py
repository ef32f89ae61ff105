from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.policy_page, name="policy"),
    path("privacy/versions/<str:version>/", views.policy_version, name="version"),
    path("privacy/versions/<str:version>/changes/", views.policy_diff, name="diff"),
    path("privacy/versions/<str:version>/acknowledge/", views.policy_acknowledge, name="acknowledge"),
    path("privacy/cookies/", views.cookie_settings, name="cookies"),
    path("privacy/emails/confirm/<str:token>/", views.marketing_confirm, name="marketing_confirm"),
    path("privacy/emails/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("account/privacy/", views.dashboard, name="dashboard"),
    path("account/privacy/consents/", views.consent_update, name="consent_update"),
]
