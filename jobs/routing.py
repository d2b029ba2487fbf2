from django.urls import path

from jobs.consumers import JobConsumer, StudioConsumer

websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    path("ws/studio/", StudioConsumer.as_asgi()),
]
