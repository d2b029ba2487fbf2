"""Connecting an account: each platform's OAuth 2.0 authorization-code flow, with PKCE where it takes it, by
Authlib's requests client (a kept library: PKCE, the token request's client authentication, refresh and
revocation done as RFC 6749/7636/7009 say, so none of it is written here again).

What differs per platform, from their references:
- Instagram (Business Login for Instagram): authorize at instagram.com/oauth/authorize, the code for a
  short-lived token at api.instagram.com/oauth/access_token (answered as `{"data": [{access_token, user_id,
  permissions}]}` or flat), then `GET graph.instagram.com/access_token?grant_type=ig_exchange_token` for the
  60-day token, renewed by `GET /refresh_access_token?grant_type=ig_refresh_token`; no PKCE, no refresh token,
  no revocation endpoint.
- TikTok (Login Kit for Web): `client_key` instead of client_id, in the authorize link and the token request's
  form (`/v2/oauth/token/`), PKCE S256, a refresh token (a year), revocation at `/v2/oauth/revoke/`.
- YouTube (Google OAuth 2.0 for web server apps): PKCE S256, `access_type=offline` and `prompt=consent` for a
  refresh token, revocation at oauth2.googleapis.com/revoke.
- X (OAuth 2.0 Authorization Code with PKCE): a confidential client authenticates with HTTP Basic; scope
  `offline.access` for a refresh token; revocation at `/2/oauth2/revoke`.

Every address is the operator's (settings.PLATFORMS, from the environment): none comes from a form.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from requests.exceptions import RequestException

from pipeline.errors import ConfigurationError, DistributionError
from pipeline.http import RetryPolicy, make_session
from pipeline.publish import PLATFORM_LABELS


@dataclass(frozen=True)
class PlatformConfig:
    name: str
    client_id: str = ""
    client_secret: str = ""
    authorize_url: str = ""
    token_url: str = ""
    api_url: str = ""
    revoke_url: str = ""
    analytics_url: str = ""
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    scope_separator: str = " "

    @property
    def label(self) -> str:
        return PLATFORM_LABELS[self.name]

    @property
    def ready(self) -> bool:
        return bool(self.client_id and self.client_secret and self.authorize_url and self.token_url)

    @classmethod
    def from_settings(cls, name: str, values: dict) -> PlatformConfig:
        return cls(name=name, **{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass
class Token:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    scope: str = ""
    extra: dict = field(default_factory=dict)


class OAuthFailed(DistributionError):
    """The platform refused a code, a refresh or a revocation."""

    retryable = False


def _session(config: PlatformConfig, redirect_uri: str = "", **kwargs) -> OAuth2Session:
    if not config.ready:
        raise ConfigurationError(f"{config.label} is not set up for this studio", provider=config.name,
                                 hint=f"the operator sets {config.name.upper()}_CLIENT_ID and "
                                      f"{config.name.upper()}_CLIENT_SECRET in the environment")
    method = "client_secret_basic" if config.name == "x" else "client_secret_post"
    session = OAuth2Session(config.client_id, config.client_secret, scope=config.scope_separator.join(config.scopes),
                            redirect_uri=redirect_uri or None, token_endpoint_auth_method=method,
                            revocation_endpoint_auth_method=method,
                            code_challenge_method="S256" if config.pkce else None, default_timeout=(10, 30),
                            **kwargs)
    retrying = make_session(RetryPolicy(total=3))
    for prefix, adapter in retrying.adapters.items():
        session.mount(prefix, adapter)
    return session


def authorization(config: PlatformConfig, redirect_uri: str) -> tuple[str, str, str]:
    """The platform's consent page to send the desk admin to: (url, state, code_verifier)."""
    session = _session(config, redirect_uri)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48) if config.pkce else ""
    extra = {}
    if config.name == "tiktok":
        extra["client_key"] = config.client_id
    if config.name == "youtube":
        extra.update(access_type="offline", prompt="consent", include_granted_scopes="true")
    url, _ = session.create_authorization_url(config.authorize_url, state=state, code_verifier=verifier or None,
                                              **extra)
    return url, state, verifier


def _token(raw: dict, now: datetime | None = None) -> Token:
    now = now or datetime.now(UTC)
    expires_in = raw.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and 0 < expires_in < 10**9:
        expires_at = now + timedelta(seconds=int(expires_in))
    access = raw.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthFailed("the platform answered without an access token", layer="L7",
                          hint="connect the account again")
    return Token(access_token=access, refresh_token=str(raw.get("refresh_token") or ""), expires_at=expires_at,
                 scope=str(raw.get("scope") or ""),
                 extra={k: raw[k] for k in ("open_id", "user_id") if isinstance(raw.get(k), str | int)})


def _refused(config: PlatformConfig, what: str, exc: Exception) -> OAuthFailed:
    detail = getattr(exc, "description", "") or getattr(exc, "error", "") or exc.__class__.__name__
    return OAuthFailed(f"{config.label} refused {what} ({str(detail)[:160]})", layer="L7", provider=config.name,
                       hint="connect the account again on the Accounts page")


def _instagram_unwrap(response):
    """Instagram's code exchange may answer `{"data": [{...}]}`; Authlib reads a flat token."""
    try:
        body = response.json()
    except ValueError:
        return response
    if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        import json

        response._content = json.dumps(body["data"][0]).encode()
    return response


def exchange(config: PlatformConfig, *, code: str, redirect_uri: str, code_verifier: str) -> Token:
    """The code the platform sent back, for the account's tokens (Instagram's made long-lived at once)."""
    session = _session(config, redirect_uri)
    extra = {"client_key": config.client_id} if config.name == "tiktok" else {}
    if config.name == "instagram":
        session.register_compliance_hook("access_token_response", _instagram_unwrap)
    try:
        raw = session.fetch_token(config.token_url, code=code, grant_type="authorization_code",
                                  code_verifier=code_verifier or None, **extra)
        token = _token(dict(raw))
        if config.name == "instagram":
            response = session.get(f"{config.api_url.rstrip('/')}/access_token", params={
                "grant_type": "ig_exchange_token", "client_secret": config.client_secret,
                "access_token": token.access_token}, withhold_token=True)
            response.raise_for_status()
            long_lived = _token(response.json())
            long_lived.extra = token.extra
            return long_lived
        return token
    except (OAuthError, RequestException, ValueError) as exc:
        raise _refused(config, "the connection", exc) from exc


def refresh(config: PlatformConfig, token: Token) -> Token:
    """A new access token (and refresh token, where the platform turns them) before the old one ends."""
    session = _session(config)
    try:
        if config.name == "instagram":
            response = session.get(f"{config.api_url.rstrip('/')}/refresh_access_token", params={
                "grant_type": "ig_refresh_token", "access_token": token.access_token}, withhold_token=True)
            response.raise_for_status()
            fresh = _token(response.json())
        else:
            if not token.refresh_token:
                raise OAuthFailed(f"{config.label} gave no refresh token", layer="L7", provider=config.name,
                                  hint="connect the account again on the Accounts page")
            extra = {"client_key": config.client_id} if config.name == "tiktok" else {}
            fresh = _token(dict(session.refresh_token(config.token_url, refresh_token=token.refresh_token, **extra)))
    except (OAuthError, RequestException, ValueError) as exc:
        raise _refused(config, "a refresh of the account's token", exc) from exc
    fresh.refresh_token = fresh.refresh_token or token.refresh_token
    fresh.extra = {**token.extra, **fresh.extra}
    return fresh


def revoke(config: PlatformConfig, token: Token) -> bool:
    """Tell the platform to forget the tokens. False where it has no way to (Instagram): they lapse."""
    if not config.revoke_url:
        return False
    session = _session(config)
    extra = {"client_key": config.client_id} if config.name == "tiktok" else {}
    try:
        response = session.revoke_token(config.revoke_url, token=token.refresh_token or token.access_token,
                                        token_type_hint="refresh_token" if token.refresh_token else "access_token",
                                        **extra)
        response.raise_for_status()
    except (OAuthError, RequestException) as exc:
        raise _refused(config, "the revocation", exc) from exc
    return True


def identify(config: PlatformConfig, token: Token) -> tuple[str, str]:
    """(the account's id on the platform, its handle as the desk knows it) for a new connection."""
    session = _session(config)
    base = config.api_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token.access_token}"}
    try:
        if config.name == "instagram":
            body = session.get(f"{base}/me", params={"fields": "user_id,username",
                                                     "access_token": token.access_token}, withhold_token=True)
            body.raise_for_status()
            me = body.json()
            return str(me["user_id"]), "@" + str(me["username"])
        if config.name == "tiktok":
            body = session.get(f"{base}/v2/user/info/", params={"fields": "open_id,display_name,username"},
                               headers=headers, withhold_token=True)
            body.raise_for_status()
            user = body.json()["data"]["user"]
            return str(user["open_id"]), "@" + str(user.get("username") or user["display_name"])
        if config.name == "youtube":
            body = session.get(f"{base}/youtube/v3/channels", params={"part": "snippet", "mine": "true"},
                               headers=headers, withhold_token=True)
            body.raise_for_status()
            channel = body.json()["items"][0]
            return str(channel["id"]), str(channel["snippet"].get("customUrl") or channel["snippet"]["title"])
        body = session.get(f"{base}/2/users/me", headers=headers, withhold_token=True)
        body.raise_for_status()
        user = body.json()["data"]
        return str(user["id"]), "@" + str(user["username"])
    except (RequestException, ValueError, KeyError, IndexError, TypeError) as exc:
        raise _refused(config, "to say which account it is", exc) from exc
