from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<slug:slug>/survey/", views.submit, name="submit"),
    path("f/<str:token>/", views.follow_up, name="follow_up"),
]
