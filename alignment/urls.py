from django.urls import path

from alignment import views

app_name = "alignment"

urlpatterns = [
    # The wise-response playground (coordinators, or anyone when the study's graph is public).
    path("graph/<slug:slug>/playground/", views.playground_index, name="playground"),
    path("graph/<slug:slug>/playground/<int:pk>/", views.playground_conversation, name="playground_conversation"),
    path("graph/<slug:slug>/playground/<int:pk>/export.json", views.playground_export, name="playground_export"),
    # Read-only share links: the token is the permission.
    path("playground/shared/<str:token>/", views.playground_shared, name="playground_shared"),
    path("playground/shared/<str:token>/export.json", views.playground_shared_export, name="playground_shared_export"),
]
