"""L7 distribution: hand the rendered files on: copy to a folder, or POST their metadata to a webhook.

Where to is a destination a desk admin set up (presets.models.Destination), handed in by name in
ctx.options["DESTINATIONS"]; the preset only picks one. A folder stays inside EXPORT_DIR, a webhook reaches
only public addresses or the hosts the operator allows (pipeline/net.py).

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

from pipeline.context import LayerContext
from pipeline.contracts import DistributionResult, RenderResult
from pipeline.contracts.l7 import analytics_id
from pipeline.errors import ConfigurationError, DistributionError
from pipeline.files import atomic_write, atomic_write_bytes
from pipeline.http import ProviderClient, RetryPolicy, Timeouts, make_session
from pipeline.net import AddressRefused, check_delivery_url
from pipeline.paths import OutsideFolder, contained
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


def to_folder(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str,
              destination: dict) -> DistributionResult:
    export_dir = ctx.options.get("EXPORT_DIR")
    if not export_dir:
        raise ConfigurationError("no export folder is set", layer="L7", provider="folder",
                                 hint="set EXPORT_DIR in the environment")
    try:
        root = contained(export_dir, destination.get("folder") or "")
    except OutsideFolder as exc:
        raise ConfigurationError(f"destination {destination['name']!r}: {exc}", layer="L7", provider="folder",
                                 field="providers.distribution.name",
                                 hint="a desk admin fixes the destination's folder in the admin") from exc
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


def to_webhook(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str,
               destination: dict) -> DistributionResult:
    allowed = ctx.options.get("DELIVERY_ALLOWED_HOSTS") or ()
    url = destination.get("url") or ""
    try:
        check_delivery_url(url, allowed)
    except AddressRefused as exc:
        raise ConfigurationError(f"destination {destination['name']!r}: {exc}", layer="L7", provider="webhook",
                                 field="providers.distribution.name",
                                 hint="a desk admin fixes the destination's address in the admin") from exc
    body = json.dumps(metadata(inputs, ctx, result), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    secret = ctx.secrets.get("webhook", {}).get("api_key", "")
    if secret:
        headers["X-MediaEngine-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # The idempotency key makes a repeated POST harmless, so it may be retried like a GET. Every connection is
    # checked again (a name may resolve elsewhere now), and a redirect is not followed.
    policy = RetryPolicy(total=4)
    client = ProviderClient(provider="webhook", layer="L7", base_url=url, retry_posts=True,
                            timeouts=Timeouts(connect=5, read=20), policy=policy,
                            session=make_session(policy, retry_posts=True, deliver_only_to=allowed))
    try:
        response = client.request("POST", url, data=body, headers=headers, allow_redirects=False)
    except AddressRefused as exc:
        raise DistributionError(f"destination {destination['name']!r}: {exc}", layer="L7", provider="webhook",
                                retryable=False, hint="a desk admin checks the destination's address") from exc
    if 300 <= response.status_code < 400:
        raise DistributionError(f"destination {destination['name']!r} answered {response.status_code}, a redirect "
                                "to another address, which is not followed", layer="L7", provider="webhook",
                                retryable=False, hint="a desk admin sets the address the receiver now has")
    return DistributionResult(destination="webhook", location=url, delivered=[f.file for f in result.files],
                              idempotency_key=key, status_code=response.status_code)


DESTINATIONS = {"folder": to_folder, "webhook": to_webhook}


def applies(preset) -> bool:
    return preset.providers.distribution is not None


def run(inputs: LayerInput, ctx: LayerContext) -> DistributionResult:
    choice = inputs.preset.providers.distribution
    known = ctx.options.get("DESTINATIONS") or {}
    destination = known.get(choice.name) if choice is not None else None
    if destination is None or destination.get("kind") not in DESTINATIONS:
        raise ConfigurationError(f"no destination is called {getattr(choice, 'name', None)!r} (set up: "
                                 f"{', '.join(known) or 'none'})", layer="L7", field="providers.distribution.name",
                                 hint="a desk admin sets it up under Destinations in the admin, or pick another "
                                      "in the preset")
    result: RenderResult = inputs.upstream["L6"]
    key = f"{ctx.job_id}:v{result.plan_version}"
    return DESTINATIONS[destination["kind"]](inputs, ctx, result, key, destination)
