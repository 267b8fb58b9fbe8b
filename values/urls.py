from django.urls import path

from values import views

app_name = "values"

urlpatterns = [
    path("s/<slug:slug>/approval/", views.record_approval, name="record_approval"),
    path("s/<slug:slug>/relevance/", views.submit_relevance, name="submit_relevance"),
]
