from privacy.consent import views as consent_views
from privacy.policy import views as policy_views
from privacy.rights import views as rights_views

app_name = "privacy"
urlpatterns = [*policy_views.urlpatterns, *consent_views.urlpatterns, *rights_views.urlpatterns]
