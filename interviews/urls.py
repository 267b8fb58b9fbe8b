from django.urls import path

from interviews import views

app_name = "interviews"

urlpatterns = [
    path("s/<slug:slug>/scenario/", views.choose_scenario, name="choose_scenario"),
]
