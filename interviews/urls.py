from django.urls import path

from interviews import views

app_name = "interviews"

urlpatterns = [
    path("s/<slug:slug>/", views.entry, name="entry"),
    path("s/<slug:slug>/consent/", views.consent, name="consent"),
    path("s/<slug:slug>/journey/", views.journey, name="journey"),
    path("s/<slug:slug>/scenario/", views.choose_scenario, name="choose_scenario"),
    path("s/<slug:slug>/approval/", views.record_approval, name="record_approval"),
    path("s/<slug:slug>/relevance/", views.submit_relevance, name="submit_relevance"),
    path("s/<slug:slug>/withdraw/", views.withdraw, name="withdraw"),
]
