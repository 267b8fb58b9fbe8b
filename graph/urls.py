from django.urls import path

from graph import explorer_views, views

app_name = "graph"

urlpatterns = [
    path("s/<slug:slug>/stories/vote/", views.vote, name="vote"),
    # The moral graph explorer (staff, or anyone when the study's graph is public).
    path("graph/<slug:slug>/", explorer_views.graph_explorer, name="explorer"),
    path("graph/<slug:slug>/data.json", explorer_views.graph_data, name="data"),
    path("graph/<slug:slug>/winners/", explorer_views.graph_winners, name="winners"),
    path("graph/<slug:slug>/scalability/", explorer_views.graph_scalability, name="scalability"),
]
