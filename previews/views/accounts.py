"""The Accounts page: a desk admin connects the brand's Instagram, TikTok, YouTube and X accounts with each
platform's OAuth flow, sees which need connecting again and why, and disconnects them.

The flow's state and PKCE verifier wait in the desk admin's session between the redirect to the platform and
its callback; the callback is refused unless it carries the same state (a forged callback cannot attach
someone else's account). The callback address is built from PUBLIC_URL, the operator's, as the platforms
require it registered."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from pipeline.errors import ConfigurationError, DistributionError
from pipeline.publish.oauth import authorization
from presets import accounts
from presets.models import PLATFORM_CHOICES, Account, Destination
from previews import access
from previews.access import staff_required

SESSION_KEY = "account_connect"
# The platforms that fetch a piece's files from its links (YouTube and X are sent the bytes).
FETCHING = ("instagram", "tiktok")


def callback_uri(platform: str) -> str:
    return settings.PUBLIC_URL + reverse("previews:account-callback", args=[platform])


def public_url_problem() -> str:
    """Why the platforms could not fetch files from this studio's links, or "" when they can (object storage's
    links are the store's; local disk's start with PUBLIC_URL, which must be on the internet)."""
    if settings.STORAGES["default"]["BACKEND"] != "django.core.files.storage.FileSystemStorage":
        return ""
    host = urlsplit(settings.PUBLIC_URL).hostname or ""
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host in ("localhost",) or host.endswith((".local", ".internal", ".lan"))
    if private or not settings.PUBLIC_URL.startswith("https://"):
        return (f"Instagram and TikTok's photo posts fetch each file from its link, and the links start with "
                f"PUBLIC_URL ({settings.PUBLIC_URL}), which they cannot reach: the operator sets PUBLIC_URL to "
                "this studio's https address on the internet, or object storage (STORAGE_URL).")
    return ""


def fetching_problem(config) -> str:
    """public_url_problem(), for a preset that publishes to a platform fetching its files by link."""
    choice = config.providers.distribution
    if choice is None or not Destination.objects.filter(name__in=choice.names, kind__in=FETCHING).exists():
        return ""
    return public_url_problem()


@staff_required(perms=access.VIEW_ACCOUNTS)
@require_GET
def accounts_page(request):
    configs = {name: accounts.platform_config(name) for name, _ in PLATFORM_CHOICES}
    return render(request, "previews/accounts.html", {
        "accounts": Account.objects.prefetch_related("destinations").order_by("platform", "handle"),
        "platforms": [{"name": name, "label": label, "ready": configs[name].ready,
                       "callback": callback_uri(name)} for name, label in PLATFORM_CHOICES],
        "may_connect": access.can(request.user, access.CONNECT_ACCOUNTS),
        "public_url_problem": public_url_problem()})


@staff_required(perms=access.CONNECT_ACCOUNTS)
@require_POST
def account_connect(request, platform):
    if platform not in dict(PLATFORM_CHOICES):
        messages.error(request, "There is no such platform to connect.")
        return redirect("previews:accounts")
    try:
        url, state, verifier = authorization(accounts.platform_config(platform), callback_uri(platform))
    except ConfigurationError as exc:
        messages.error(request, exc.describe())
        return redirect("previews:accounts")
    request.session[SESSION_KEY] = {"platform": platform, "state": state, "verifier": verifier}
    return redirect(url)


@staff_required(perms=access.CONNECT_ACCOUNTS)
@require_GET
def account_callback(request, platform):
    label = dict(PLATFORM_CHOICES).get(platform, "the platform")
    waiting = request.session.pop(SESSION_KEY, None) or {}
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET.get("error")
        messages.error(request, f"{label} did not connect the account: {reason[:200]}.")
        return redirect("previews:accounts")
    if waiting.get("platform") != platform or not waiting.get("state") or \
            request.GET.get("state") != waiting["state"] or not request.GET.get("code"):
        messages.error(request, f"That answer from {label} does not belong to a connection started here: press "
                                "Connect again.")
        return redirect("previews:accounts")
    try:
        account = accounts.account_connect(platform=platform, code=request.GET["code"],
                                           code_verifier=waiting.get("verifier", ""),
                                           redirect_uri=callback_uri(platform), user=request.user)
    except (DistributionError, ConfigurationError) as exc:
        messages.error(request, exc.describe())
        return redirect("previews:accounts")
    names = ", ".join(d.name for d in account.destinations.all())
    messages.success(request, f"{label} account {account.handle} connected. Presets publish to it by naming the "
                              f"destination {names} (providers.distribution).")
    return redirect("previews:accounts")


@staff_required(perms=access.CONNECT_ACCOUNTS)
@require_POST
def account_disconnect(request, account_id):
    account = get_object_or_404(Account, pk=account_id)
    told = accounts.account_revoke(account_id=account.pk, user=request.user)
    messages.success(request, f"{account} disconnected" + (f"; {account.get_platform_display()} was told to "
                     "forget its tokens." if told else f"; its tokens were deleted here "
                     f"({account.get_platform_display()} has no way to revoke them: they lapse)."))
    return redirect("previews:accounts")
