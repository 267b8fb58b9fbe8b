from django.urls import path

from interviews.consumers import InterviewConsumer
from journey.consumers import JourneyConsumer

websocket_urlpatterns = [
    path("ws/s/<slug:slug>/journey/", JourneyConsumer.as_asgi()),
    path("ws/s/<slug:slug>/interview/", InterviewConsumer.as_asgi()),
]
