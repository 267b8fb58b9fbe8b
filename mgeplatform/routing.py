from django.urls import path

from interviews import consumers

websocket_urlpatterns = [
    path("ws/s/<slug:slug>/journey/", consumers.JourneyConsumer.as_asgi()),
    path("ws/s/<slug:slug>/interview/", consumers.InterviewConsumer.as_asgi()),
]
