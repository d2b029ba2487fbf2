"""Operations endpoints: /healthz for load balancers and supervisors, /metrics for Prometheus, /engagement for the
posts' figures from the social platforms."""
import hmac
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from jobs import health
from jobs.metrics import JobsCollector


@require_GET
def healthz(request):
    """200 or 503 for anyone (a load balancer's probe); what was checked, and what is wrong, only for staff or
    a caller with METRICS_TOKEN: paths, versions, disk and queue state tell an outsider too much."""
    healthy, checks = health.health()
    body = {"status": "ok" if healthy else "unhealthy"}
    token = bool(settings.METRICS_TOKEN) and _bearer_matches(request, settings.METRICS_TOKEN)
    # Who is asking is read from the database: only when it answers (a 503 for a database that is down is
    # still an answer, in words, to a token holder).
    user = getattr(request, "user", None) if not token and checks["database"]["ok"] else None
    if token or (user is not None and user.is_active and user.is_staff):
        body.update(failing=[name for name, result in checks.items() if not result["ok"]], checks=checks)
    return JsonResponse(body, status=200 if healthy else 503)


def _bearer_matches(request, token: str) -> bool:
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(sent.encode(), token.encode())


@require_GET
def metrics(request):
    """Prometheus text format. With METRICS_TOKEN set, a matching `Authorization: Bearer` header is required."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    if settings.METRICS_TOKEN and not _bearer_matches(request, settings.METRICS_TOKEN):
        return HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


MAX_ENGAGEMENT_BODY = 8 * 1024 * 1024


@csrf_exempt  # a machine's call with a bearer token, never a browser's with a session cookie
@require_POST
def engagement(request):
    """{"posts": [{"analytics_id", "platform", "views", "likes", "shares", "watch_time_s", "reported_at"}]}:
    saved whole, or refused whole with field errors (jobs.services.engagement)."""
    from jobs.services import InvalidInput
    from jobs.services.engagement import engagement_record

    if not settings.ENGAGEMENT_TOKEN:
        return JsonResponse({"error": "engagement reports are off: set ENGAGEMENT_TOKEN on the server"}, status=401)
    if not _bearer_matches(request, settings.ENGAGEMENT_TOKEN):
        return JsonResponse({"error": "send Authorization: Bearer <ENGAGEMENT_TOKEN>"}, status=401)
    if len(request.body) > MAX_ENGAGEMENT_BODY:
        return JsonResponse({"errors": {"__all__": ["the request is larger than 8 MB: send fewer posts"]}}, status=400)
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"errors": {"__all__": ["the request body is not JSON"]}}, status=400)
    posts = body.get("posts") if isinstance(body, dict) else None
    if not isinstance(posts, list):
        return JsonResponse({"errors": {"posts": ["send {\"posts\": [ ... ]}"]}}, status=400)
    try:
        return JsonResponse(engagement_record(reports=posts))
    except InvalidInput as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
