"""Connected accounts: connecting one (the OAuth callback), keeping its token fresh, marking it when the
platform stops taking it, disconnecting it, and handing it to L7 as the pipeline's `Account`."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from pipeline import publish
from pipeline.publish.oauth import OAuthFailed, PlatformConfig, Token, exchange, identify, refresh, revoke
from presets import tokens
from presets.models import Account, Destination

logger = logging.getLogger("presets.accounts")
# A token is refreshed when it has less than this left (on use, and by the hourly task ahead of use).
REFRESH_AHEAD = timedelta(minutes=10)
# Instagram's 60-day tokens are renewed by the hourly task once this close to their end.
RENEW_AHEAD = timedelta(days=7)


def platform_config(name: str) -> PlatformConfig:
    return PlatformConfig.from_settings(name, settings.PLATFORMS[name])


def _token_of(account: Account) -> Token:
    values = tokens.unseal(account.sealed_token)
    expires = values.get("expires_at")
    return Token(access_token=values["access_token"], refresh_token=values.get("refresh_token", ""),
                 expires_at=datetime.fromisoformat(expires) if expires else None, scope=values.get("scope", ""),
                 extra=values.get("extra") or {})


def _store(account: Account, token: Token) -> None:
    account.sealed_token = tokens.seal({
        "access_token": token.access_token, "refresh_token": token.refresh_token,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None, "scope": token.scope,
        "extra": token.extra})
    account.expires_at = token.expires_at
    account.scope = token.scope or account.scope


def account_mark_broken(account_id: int, problem: str) -> None:
    Account.objects.filter(pk=account_id).exclude(status=Account.Status.REVOKED).update(
        status=Account.Status.BROKEN, problem=problem[:1000])
    logger.warning("account %s needs connecting again: %s", account_id, problem)


def account_connect(*, platform: str, code: str, code_verifier: str, redirect_uri: str, user) -> Account:
    """The platform's code for tokens, the account it names, kept (a reconnection updates the same row), and a
    destination for it that presets can pick (`<platform>-<handle>`), made the first time."""
    config = platform_config(platform)
    token = exchange(config, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    external_id, handle = identify(config, token)
    with transaction.atomic():
        account, _ = Account.objects.select_for_update().get_or_create(
            platform=platform, external_id=external_id, defaults={"handle": handle})
        account.handle, account.status, account.problem = handle, Account.Status.CONNECTED, ""
        account.connected_by, account.connected_at, account.refreshed_at = user, timezone.now(), timezone.now()
        _store(account, token)
        account.save()
        if not account.destinations.exists():
            name = slugify(f"{platform}-{handle.lstrip('@')}")[:50] or platform
            Destination.objects.get_or_create(name=name, defaults={"kind": platform, "account": account})
    return account


def account_refresh(account_id: int, *, force: bool = False) -> Token:
    """The account's token, refreshed first when it ends within REFRESH_AHEAD (or `force`, after the platform
    refused it). Locked, so two workers publishing at once refresh it once. A refresh the platform refuses, or
    tokens this install cannot read, mark the account (committed, outside the lock's transaction) and raise
    AccountBroken."""
    problem = ""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account_id)
        label = f"{account.get_platform_display()} account {account.handle}"
        if account.status != Account.Status.CONNECTED:
            raise publish.AccountBroken(f"{label} is {account.get_status_display().lower()}"
                                        f"{': ' + account.problem if account.problem else ''}", layer="L7",
                                        provider=account.platform,
                                        hint="a desk admin connects it again on the Accounts page")
        try:
            token = _token_of(account)
        except tokens.Unreadable as exc:
            problem = f"{exc} (was SECRET_KEY or ACCOUNT_TOKEN_KEYS changed?)"
        else:
            # The column is the one truth of when it ends (the sealed copy is what the platform said then).
            near_end = account.expires_at is not None and account.expires_at - timezone.now() < REFRESH_AHEAD
            if not (force or near_end):
                return token
            try:
                token = refresh(platform_config(account.platform), token)
            except OAuthFailed as exc:
                problem = exc.message
            else:
                _store(account, token)
                account.refreshed_at = timezone.now()
                account.save(update_fields=["sealed_token", "expires_at", "scope", "refreshed_at"])
                return token
    account_mark_broken(account_id, problem)
    raise publish.AccountBroken(f"{label}: {problem}", layer="L7", provider=account.platform,
                                hint="a desk admin connects it again on the Accounts page")


def accounts_renew_due() -> list[str]:
    """Refresh, ahead of any post, the tokens that end soon (the hourly task): a refresh token that lapses
    unused, or an Instagram token past its 60 days, would otherwise break the account between posts."""
    due = Account.objects.filter(status=Account.Status.CONNECTED, expires_at__lt=timezone.now() + RENEW_AHEAD)
    renewed = []
    for account in due:
        try:
            account_refresh(account.pk, force=True)
            renewed.append(account.handle)
        except publish.AccountBroken as exc:
            logger.warning("renewing %s failed: %s", account.handle, exc)
    return renewed


def account_revoke(*, account_id: int, user) -> bool:
    """Disconnect: the platform is told to forget the tokens where it can, and they are deleted here either way.
    Destinations that publish to it then refuse, in words, until it is connected again."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account_id)
        told = False
        if account.sealed_token:
            try:
                told = revoke(platform_config(account.platform), _token_of(account))
            except (tokens.Unreadable, OAuthFailed) as exc:
                logger.warning("the platform was not told to forget %s's tokens: %s", account.handle, exc)
        account.sealed_token, account.expires_at = "", None
        account.status, account.problem = Account.Status.REVOKED, f"disconnected by {user.get_username()}"
        account.save(update_fields=["sealed_token", "expires_at", "status", "problem"])
    return told


def for_pipeline(account_id: int) -> publish.Account:
    """The account as L7 uses it: a token that is fresh, and a forced refresh when the platform refused it."""
    account = Account.objects.get(pk=account_id)
    return publish.Account(platform=account.platform, handle=account.handle, external_id=account.external_id,
                           token=lambda: account_refresh(account_id).access_token,
                           refresh=lambda: account_refresh(account_id, force=True).access_token,
                           broken=lambda problem: account_mark_broken(account_id, problem))
