"""L7 distribution: hand the rendered files on: copy to a folder, POST their metadata to a webhook, or publish
them with their post copy to a connected platform account (pipeline/publish), to every destination the preset
names, each exactly once.

Where to is a destination a desk admin set up (presets.models.Destination), handed in by name in
ctx.options["DESTINATIONS"]; the preset only picks one. A folder stays inside EXPORT_DIR, a webhook reaches
only public addresses or the hosts the operator allows (pipeline/net.py).

The webhook carries an Idempotency-Key and a webhook-id (job and plan version), so a retried or
repeated delivery is recognised by the receiver; it is signed as Standard Webhooks are, with
WEBHOOK_SECRET, when that is set. Each file is
described by its path, size and sha256, with an expiring signed link to fetch it.
"""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

from pipeline.context import LayerContext
from pipeline.contracts import DistributionResult, RenderResult
from pipeline.contracts.l7 import Delivered, analytics_id
from pipeline.errors import APIError, ConfigurationError, DistributionError
from pipeline.files import atomic_write, atomic_write_bytes
from pipeline.http import ProviderClient, RetryPolicy, Timeouts, make_session
from pipeline.net import AddressRefused, check_delivery_url
from pipeline.paths import OutsideFolder, contained
from pipeline.post import texts as post_texts
from pipeline.publish import Image, Piece, Published
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
            described.update(url=ctx.file_link(output.file, expires),
                             url_expires_at=expires.isoformat(timespec="seconds"))
        files.append(described)
    return {"job_id": ctx.job_id, "plan_version": result.plan_version, "analytics_id": post,
            "kind": plan.kind, "title": plan.title,
            "odds_as_of": plan.odds_as_of.isoformat() if plan.odds_as_of else None, "files": files,
            # The post copy as approved, and each platform's text made from it (pipeline/post.py).
            "post": {**plan.post.model_dump(mode="json"), "platforms": post_texts(plan.post)}}


def to_folder(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str,
              destination: dict) -> Delivered:
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
        # Each platform's post text beside the files, ready to paste: post-instagram.txt, post-tiktok.txt, post-x.txt
        for platform, words in post_texts(inputs.plan.post).items():
            if words:
                atomic_write_bytes(target / f"post-{platform}.txt", (words + "\n").encode())
                delivered.append(f"post-{platform}.txt")
        atomic_write_bytes(target / "metadata.json", json.dumps(metadata(inputs, ctx, result), indent=2).encode())
    except OSError as exc:
        raise DistributionError(f"could not write to {target}: {exc.strerror}", layer="L7", provider="folder",
                                retryable=True, hint="check the export folder exists and is writable") from exc
    return Delivered(name=destination["name"], destination="folder", location=str(target),
                     delivered=[*delivered, "metadata.json"], idempotency_key=key)


def to_webhook(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str,
               destination: dict) -> Delivered:
    allowed = ctx.options.get("DELIVERY_ALLOWED_HOSTS") or ()
    url = destination.get("url") or ""
    try:
        check_delivery_url(url, allowed)
    except AddressRefused as exc:
        raise ConfigurationError(f"destination {destination['name']!r}: {exc}", layer="L7", provider="webhook",
                                 field="providers.distribution.name",
                                 hint="a desk admin fixes the destination's address in the admin") from exc
    body = json.dumps(metadata(inputs, ctx, result), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               **signed_headers(ctx.secrets.get("webhook", {}).get("api_key", ""), key, body)}
    # A refused connection or a 5xx is tried again at once a few times (the idempotency key makes a repeat
    # harmless); past that the job's delivery is scheduled again later, over hours (jobs/services/delivery.py).
    # A receiver that took the message and is slow to answer is not sent it again at once (no read retries): it
    # gets READ_TIMEOUT_S to answer. Every connection is checked again (a name may resolve elsewhere now), and
    # a redirect is not followed.
    policy = RetryPolicy(total=3, read=0)
    client = ProviderClient(provider="webhook", layer="L7", base_url=url, retry_posts=True,
                            timeouts=Timeouts(connect=5, read=READ_TIMEOUT_S), policy=policy,
                            session=make_session(policy, retry_posts=True, deliver_only_to=allowed))
    try:
        response = client.request("POST", url, data=body, headers=headers, allow_redirects=False)
    except AddressRefused as exc:
        raise DistributionError(f"destination {destination['name']!r}: {exc}", layer="L7", provider="webhook",
                                retryable=False, hint="a desk admin checks the destination's address") from exc
    except APIError as exc:
        refused = exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 429)
        error = DistributionError(
            f"destination {destination['name']!r}: {exc}", layer="L7", provider="webhook", retryable=True,
            hint=("the receiver refused the message: fix the destination or the receiver, then retry the "
                  "delivery (nothing is rendered again)") if refused else
                 "the receiver is down or slow; the delivery is tried again later by itself")
        error.status, error.redeliver = exc.status, not refused
        raise error from exc
    if 300 <= response.status_code < 400:
        raise DistributionError(f"destination {destination['name']!r} answered {response.status_code}, a redirect "
                                "to another address, which is not followed", layer="L7", provider="webhook",
                                retryable=False, hint="a desk admin sets the address the receiver now has")
    return Delivered(name=destination["name"], destination="webhook", location=url,
                     delivered=[f.file for f in result.files], idempotency_key=key, status_code=response.status_code)


READ_TIMEOUT_S = 60


def signed_headers(secret: str, key: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers (standardwebhooks.com): the message's id (the same for every delivery of one
    approved version, so a receiver drops repeats), this attempt's time, and `v1,` + the HMAC-SHA256 of
    `id.timestamp.body`, so a captured delivery cannot be replayed later (receivers refuse old timestamps).
    WEBHOOK_SECRET is given as `whsec_` + base64, as the receivers' libraries (standardwebhooks, Svix) take
    it; any other text is used as the key's bytes. No secret: the headers but no signature."""
    from standardwebhooks import Webhook

    message_id = "msg_" + key.replace(":", "_")
    now = datetime.now(UTC)
    headers = {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp()))}
    if secret:
        signer = Webhook(secret if secret.startswith("whsec_") else secret.encode())
        headers["webhook-signature"] = signer.sign(msg_id=message_id, timestamp=now, data=body.decode())
    return headers


def piece_of(inputs: LayerInput, ctx: LayerContext, result: RenderResult, platform: str) -> Piece:
    """What a platform is sent: the video or the pictures (with a link it can fetch them from, and each
    slide's alt text), and the platform's text made from the approved post copy."""
    plan = inputs.plan
    texts = post_texts(plan.post)
    expires = datetime.now(UTC) + timedelta(seconds=int(ctx.options.get("WEBHOOK_URL_SECONDS", 7 * 24 * 3600)))

    def link(rel: str) -> str:
        return ctx.file_link(rel, expires) if ctx.file_link is not None else ""

    video = next((f for f in result.files if f.kind == "video"), None)
    pictures = [f for f in result.files if f.kind in ("slide", "image")]
    alt = [plan.post.alt_text.get(scene.id, "") for scene in plan.scenes]
    images = [Image(path=ctx.work_dir / f.file, url=link(f.file), alt=alt[i] if i < len(alt) else "")
              for i, f in enumerate(pictures)]
    kind = "reel" if video is not None else ("carousel" if len(images) > 1 else "still")
    return Piece(kind=kind, text=texts.get(platform) or texts["instagram"], title=plan.title,
                 analytics_id=analytics_id(ctx.job_id, result.plan_version),
                 video=ctx.work_dir / video.file if video else None, video_url=link(video.file) if video else "",
                 images=images)


def to_platform(inputs: LayerInput, ctx: LayerContext, result: RenderResult, key: str,
                destination: dict) -> Delivered:
    """Publish to the destination's account, exactly once: the ledger (ctx.publication) is read first and
    written at every step (pipeline/publish/__init__.py)."""
    from pipeline.publish import instagram, tiktok, x, youtube

    platform = destination["kind"]
    if ctx.account is None or ctx.publication is None or not destination.get("account"):
        raise ConfigurationError(f"destination {destination['name']!r} has no connected account", layer="L7",
                                 provider=platform, field="providers.distribution.name",
                                 hint="a desk admin connects the account on the Accounts page")
    config = (ctx.options.get("PLATFORMS") or {}).get(platform) or {}
    account = ctx.account(destination["account"])
    ledger = ctx.publication(destination, result.plan_version)
    piece = piece_of(inputs, ctx, result, platform)
    modules = {"instagram": instagram, "tiktok": tiktok, "youtube": youtube, "x": x}
    kwargs = {"made_for_kids": bool(destination.get("made_for_kids"))} if platform == "youtube" else {}
    record = ledger.read()
    if record.get("state") == "published":
        published = Published(record.get("post_id", ""), record.get("url", ""), note="already published")
    else:
        try:
            published = modules[platform].publish(config.get("api_url", ""), account, piece, ledger, **kwargs)
        except APIError as exc:
            # A call outside the platform's own API (an upload address it gave) failed: tried again later, and
            # the ledger picks up where it stopped.
            raise DistributionError(f"{account.label}: {exc.message}", layer="L7", provider=platform,
                                    retryable=exc.retryable, hint="the delivery is tried again later by itself "
                                    "and goes on where it stopped") from exc
    return Delivered(name=destination["name"], destination=platform, location=account.label,
                     delivered=[f.file for f in result.files if f.kind in ("video", "slide", "image")] or
                     [result.files[0].file], idempotency_key=key, post_id=published.post_id, url=published.url,
                     note=published.note)


DESTINATIONS = {"folder": to_folder, "webhook": to_webhook, "instagram": to_platform, "tiktok": to_platform,
                "youtube": to_platform, "x": to_platform}


def applies(preset) -> bool:
    return preset.providers.distribution is not None


def run(inputs: LayerInput, ctx: LayerContext) -> DistributionResult:
    """Every destination the preset names, in its order. One that fails does not stop the others; the layer
    then fails naming each that failed (tried again later when time may fix it), and a delivery again skips
    what was already delivered."""
    choice = inputs.preset.providers.distribution
    known = ctx.options.get("DESTINATIONS") or {}
    names = choice.names if choice is not None else [None]
    destinations = []
    for name in names:
        destination = known.get(name)
        if destination is None or destination.get("kind") not in DESTINATIONS:
            raise ConfigurationError(f"no destination is called {name!r} (set up: {', '.join(known) or 'none'})",
                                     layer="L7", field="providers.distribution.name",
                                     hint="a desk admin sets it up under Destinations in the admin, or pick "
                                          "another in the preset")
        destinations.append(destination)
    result: RenderResult = inputs.upstream["L6"]
    key = f"{ctx.job_id}:v{result.plan_version}"
    done, failed = [], []
    for destination in destinations:
        try:
            done.append(DESTINATIONS[destination["kind"]](inputs, ctx, result, key, destination))
        except (DistributionError, ConfigurationError) as exc:
            ctx.logger.warning("delivery to %s failed: %s", destination["name"], exc.describe())
            failed.append(exc)
    if failed:
        if len(failed) == 1 and not done:
            raise failed[0]
        worth_waiting = [e for e in failed if e.retryable and getattr(e, "redeliver", True)]
        first = (worth_waiting or failed)[0]
        error = DistributionError("; ".join(e.message for e in failed) +
                                  (f" (delivered to {', '.join(d.name for d in done)})" if done else ""),
                                  layer="L7", provider=first.provider, field=first.field,
                                  retryable=bool(worth_waiting), hint=first.hint)
        error.status, error.redeliver = getattr(first, "status", None), bool(worth_waiting)
        raise error
    first = done[0]
    return DistributionResult(destination=first.destination, location=first.location, delivered=first.delivered,
                              idempotency_key=key, status_code=first.status_code, deliveries=done)
