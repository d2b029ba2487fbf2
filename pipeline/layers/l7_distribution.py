"""L7 distribution: hand the rendered files on: copy to a folder, or POST their metadata to a webhook.

The webhook carries an Idempotency-Key (job and plan version), so a retried or
repeated delivery is recognised by the receiver; it is signed with
WEBHOOK_SECRET (HMAC-SHA256 of the body) when that is set. Each file is
described by its path, size and sha256, with an expiring signed link to fetch it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.context import LayerContext
from pipeline.contracts import DistributionResult, RenderResult
from pipeline.contracts.l7 import analytics_id
from pipeline.errors import ConfigurationError, DistributionError
from pipeline.files import atomic_write, atomic_write_bytes
from pipeline.http import ProviderClient, RetryPolicy, Timeouts
from pipeline.registry import LayerInput


def metadata(inputs: LayerInput, ctx: LayerContext, result: RenderResult) -> dict:
    """What a receiver gets: the piece and its analytics id, and per file its job-relative path, size, sha256 and
    the post's analytics id, with a signed link to download it until `url_expires_at` (the media itself never
    travels in the message)."""
    plan = inputs.plan
    expires = datetime.now(UTC) + timedelta(seconds=int(ctx.options.get("WEBHOOK_URL_SECONDS", 7 * 24 * 3600)))
    post = analytics_id(ctx.job_id, result.plan_version)
    files = []
    for output in result.files:
        described = {**output.model_dump(mode="json"), "analytics_id": post}
        if ctx.file_link is not None:
            described.update(url=ctx.file_link(output.file), url_expires_at=expires.isoformat(timespec="seconds"))
        files.append(described)
    return {"job_id": ctx.job_id, "plan_version": result.plan_version, "analytics_id": post,
            "kind": plan.kind, "title": plan.title,
            "odds_as_of": plan.odds_as_of.isoformat() if plan.odds_as_of else None, "files": files}


def to_folder(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str) -> DistributionResult:
    options = inputs.preset.providers.distribution.options
    root = Path(options.get("path") or ctx.options.get("EXPORT_DIR") or "")
    if not str(root):
        raise ConfigurationError("no export folder is set", layer="L7", field="providers.distribution.options.path")
    target = root / ctx.job_id / f"v{result.plan_version}"
    try:
        target.mkdir(parents=True, exist_ok=True)
        delivered = []
        for output in result.files:
            source = ctx.work_dir / output.file
            atomic_write(target / source.name, lambda tmp, src=source: shutil.copyfile(src, tmp))
            delivered.append(source.name)
        atomic_write_bytes(target / "metadata.json", json.dumps(metadata(inputs, ctx, result), indent=2).encode())
    except OSError as exc:
        raise DistributionError(f"could not write to {target}: {exc.strerror}", layer="L7", provider="folder",
                                retryable=True, hint="check the export folder exists and is writable") from exc
    return DistributionResult(destination="folder", location=str(target), delivered=[*delivered, "metadata.json"],
                              idempotency_key=key)


def to_webhook(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str) -> DistributionResult:
    options = inputs.preset.providers.distribution.options
    url = options.get("url")
    if not url:
        raise ConfigurationError("the webhook has no url", layer="L7", field="providers.distribution.options.url")
    body = json.dumps(metadata(inputs, ctx, result), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    secret = ctx.secrets.get("webhook", {}).get("api_key", "")
    if secret:
        headers["X-MediaEngine-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # The idempotency key makes a repeated POST harmless, so it may be retried like a GET.
    client = ProviderClient(provider="webhook", layer="L7", base_url=url, retry_posts=True,
                            timeouts=Timeouts(connect=5, read=float(options.get("read_timeout", 20))),
                            policy=RetryPolicy.from_options(options, total=4))
    response = client.request("POST", url, data=body, headers=headers)
    return DistributionResult(destination="webhook", location=url, delivered=[f.file for f in result.files],
                              idempotency_key=key, status_code=response.status_code)


DESTINATIONS = {"folder": to_folder, "webhook": to_webhook}


def applies(preset) -> bool:
    return preset.providers.distribution is not None


def run(inputs: LayerInput, ctx: LayerContext) -> DistributionResult:
    choice = inputs.preset.providers.distribution
    if choice is None or choice.name not in DESTINATIONS:
        raise ConfigurationError(f"unknown destination {getattr(choice, 'name', None)!r} (known: "
                                 f"{', '.join(DESTINATIONS)})", layer="L7", field="providers.distribution.name")
    result: RenderResult = inputs.upstream["L6"]
    key = f"{ctx.job_id}:v{result.plan_version}"
    return DESTINATIONS[choice.name](inputs, ctx, result, key)
