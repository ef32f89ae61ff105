from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.policy, name="policy"),
    path("account/privacy/", views.dashboard, name="dashboard"),
]
