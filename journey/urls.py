from django.urls import path

from journey import views

app_name = "journey"

urlpatterns = [
    path("s/<slug:slug>/", views.entry, name="entry"),
    path("s/<slug:slug>/preview/", views.preview, name="preview"),
    path("s/<slug:slug>/resume/", views.resume, name="resume"),
    path("s/<slug:slug>/language/", views.language, name="language"),
    path("s/<slug:slug>/consent/", views.consent, name="consent"),
    path("s/<slug:slug>/journey/", views.journey, name="journey"),
    path("s/<slug:slug>/withdraw/", views.withdraw, name="withdraw"),
    path("s/<slug:slug>/disputes/", views.disputes, name="disputes"),
    path("f/<str:token>/disputes/", views.follow_up_disputes, name="follow_up_disputes"),
]
