"""Operations endpoints: /healthz for load balancers and supervisors, /metrics for Prometheus."""
import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from jobs import health
from jobs.metrics import JobsCollector


@require_GET
def healthz(request):
    healthy, checks = health.health()
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if healthy else "unhealthy", "failing": failing, "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
def metrics(request):
    """Prometheus text format. With METRICS_TOKEN set, a matching `Authorization: Bearer` header is required."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
