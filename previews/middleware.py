"""A page or endpoint that needed the object store while it was down answers 503 in words, never a 500."""
from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse

from pipeline.errors import StoreError

logger = logging.getLogger("previews")


class StoreUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, StoreError):
            return None
        logger.warning("%s %s: %s", request.method, request.path, exception.describe())
        message = f"the job's files could not be read: {exception.describe()}"
        if request.method != "GET" or "json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": message}, status=503)
        else:
            response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=503)
        response["Retry-After"] = "30"
        return response
