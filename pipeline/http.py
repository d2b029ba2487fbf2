"""The one way the pipeline talks to outside services.

`ProviderClient` wraps a `requests.Session` whose adapter retries with urllib3's
`Retry`: exponential backoff with jitter (capped), `Retry-After` honoured on 429
and 503, connect and read failures retried, 429/5xx retried on idempotent
requests only, other 4xx never. Errors name the provider, method, path and
status, never the key. Callers validate every response into a contract.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipeline.errors import APIError

logger = logging.getLogger("pipeline.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BODY_EXCERPT = 300
# What an APIError keeps of an error answer, for clients that read the provider's error codes from it.
ERROR_BODY_KEPT = 4000


# Eight retries: with a third of calls failing transiently (the reliability suite's fault mix measures
# 34 %), a call still fails 0.34^9 = 0.006 % of the time. Six were not enough: 0.34^7 = 0.05 % of its
# 1 100 calls lose about one job in two runs, and CI saw 98 of 100 jobs reach review. The backoff
# (0, 1, 2, 4, 8, 8, 8, 8 s) waits out a short outage instead of hammering it.
DEFAULT_RETRIES = 8


@dataclass(frozen=True)
class RetryPolicy:
    total: int = DEFAULT_RETRIES
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    backoff_jitter: float = 0.25
    # Reads that time out are tried again this many times (None: as many as `total`). A POST a receiver took and
    # is slow to answer must not be sent again at once (L7's webhook sets 0).
    read: int | None = None
    # Malformed JSON from an idempotent GET is usually a cut-off body: ask again this many times.
    decode_retries: int = 2

    @classmethod
    def from_options(cls, options: dict, **defaults) -> RetryPolicy:
        """A preset's provider options may tune retries: retries, backoff_factor, backoff_max."""
        values = {**defaults}
        for name, key, kind in (("total", "retries", int), ("backoff_factor", "backoff_factor", float),
                                ("backoff_max", "backoff_max", float)):
            if key in options:
                values[name] = kind(options[key])
        return cls(**values)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0

    def as_tuple(self) -> tuple[float, float]:
        return self.connect, self.read


def make_retry(policy: RetryPolicy, *, retry_posts: bool) -> Retry:
    methods = set(Retry.DEFAULT_ALLOWED_METHODS)
    if retry_posts:
        # Only for calls that are safe to repeat: generation endpoints with no side effects,
        # and webhooks that carry an idempotency key.
        methods.add("POST")
    return Retry(
        total=policy.total, connect=policy.total, read=policy.total if policy.read is None else policy.read,
        status=policy.total, other=0,
        backoff_factor=policy.backoff_factor, backoff_max=policy.backoff_max, backoff_jitter=policy.backoff_jitter,
        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset(methods),
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
    )


def make_session(policy: RetryPolicy, *, retry_posts: bool = False,
                 deliver_only_to: Iterable[str] | None = None) -> requests.Session:
    """A session retrying by `policy`. With `deliver_only_to` (the operator's allowed hosts), every connection
    is checked to reach a public address or one of those hosts (pipeline/net.py), for addresses a desk admin
    typed rather than the operator."""
    session = requests.Session()
    retry = make_retry(policy, retry_posts=retry_posts)
    if deliver_only_to is None:
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=8)
    else:
        from pipeline.net import guarded_adapter

        adapter = guarded_adapter(deliver_only_to, max_retries=retry, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass
class ProviderClient:
    """A client for one provider's API: base URL, auth headers, timeouts and the retry policy."""

    provider: str
    base_url: str
    layer: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    retry_posts: bool = False
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        if not self.base_url:
            raise APIError("no base URL is configured", status=0, retryable=False, layer=self.layer,
                           provider=self.provider, hint=f"set {self.provider.upper()}_BASE_URL in the environment")
        self.base_url = self.base_url.rstrip("/")
        self.session = self.session or make_session(self.policy, retry_posts=self.retry_posts)
        self.session.headers.update(self.headers)

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def _fail(self, method: str, url: str, message: str, *, status: int | None, retryable: bool | None = None,
              field_name: str = "") -> APIError:
        path = urlsplit(url).path or "/"
        return APIError(f"{method} {path} {message}", status=status, retryable=retryable, layer=self.layer,
                        provider=self.provider, field=field_name)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = self._url(path)
        kwargs.setdefault("timeout", self.timeouts.as_tuple())
        # One id per logical request: urllib3's retries resend it unchanged, so the provider's logs
        # (and ours) can tell a retry from a new request.
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "X-Request-Id": uuid.uuid4().hex}
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.RetryError as exc:
            raise self._fail(method, url, f"kept failing after {self.policy.total} retries ({exc.__class__.__name__})",
                             status=None) from exc
        except requests.exceptions.Timeout as exc:
            raise self._fail(method, url, f"timed out after {self.policy.total} retries", status=None) from exc
        except requests.exceptions.ConnectionError as exc:
            raise self._fail(method, url, f"could not connect or was cut off ({_reason(exc)})", status=None) from exc
        except requests.exceptions.RequestException as exc:
            raise self._fail(method, url, f"failed: {exc.__class__.__name__}", status=None,
                             retryable=False) from exc
        if response.status_code >= 400:
            body = response.text[:BODY_EXCERPT].replace("\n", " ")
            error = self._fail(method, url, f"answered {response.status_code}: {body}", status=response.status_code)
            error.body, error.headers = response.text[:ERROR_BODY_KEPT], dict(response.headers)
            raise error
        logger.debug("%s %s -> %s", method, urlsplit(url).path, response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs) -> Any:
        """Request and decode JSON; a body that is not JSON is asked for again on idempotent calls."""
        attempts = 1 + (self.policy.decode_retries if method in ("GET", "HEAD") or self.retry_posts else 0)
        for attempt in range(1, attempts + 1):
            response = self.request(method, path, **kwargs)
            try:
                return response.json()
            except (json.JSONDecodeError, requests.exceptions.JSONDecodeError) as exc:
                if attempt == attempts:
                    excerpt = response.text[:80].replace("\n", " ")
                    raise self._fail(method, response.url, f"answered malformed JSON ({exc.msg} at character "
                                     f"{exc.pos}): {excerpt!r}", status=response.status_code,
                                     retryable=True) from exc
                logger.warning("%s %s answered malformed JSON; asking again", method, urlsplit(response.url).path)
        raise AssertionError("unreachable")

    def get(self, path: str, **kwargs) -> Any:
        return self.json("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.json("POST", path, **kwargs)

    def get_bytes(self, path: str, **kwargs) -> bytes:
        return self.request("GET", path, **kwargs).content


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Read timed out", "Connection reset", "Connection refused", "Connection aborted",
                   "RemoteDisconnected", "Max retries exceeded"):
        if marker in text:
            return marker.lower()
    return exc.__class__.__name__


def provider_client(provider: str, *, layer: str, ctx, options: dict, headers: dict, read_timeout: float = 60.0,
                    retries: int = DEFAULT_RETRIES, retry_posts: bool = True) -> ProviderClient:
    """The client for one provider: its address and key from the environment (ctx.secrets, the operator's),
    its patience (retries, read timeout, backoff) from the preset's options, which the preset's contract bounds
    (pipeline/contracts/providers.py). No option names an address: a key goes only where the operator said.

    `retry_posts=False` for a POST that must not run twice (a generation queued on a server): urllib3
    then retries it only when the connection failed before the request was sent."""
    return ProviderClient(provider=provider, layer=layer, headers=headers, retry_posts=retry_posts,
                          base_url=ctx.secrets.get(provider, {}).get("base_url", ""),
                          timeouts=Timeouts(connect=5, read=float(options.get("read_timeout", read_timeout))),
                          policy=RetryPolicy.from_options(options, total=retries))


def dig(answer: Any, *path, provider: str, layer: str) -> Any:
    """The value at `path` in a decoded answer, or an APIError naming the missing field."""
    value = answer
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(p) for p in path)
            raise APIError(f"answered without {where}", status=200, retryable=False, layer=layer,
                           provider=provider, field=where) from None
    return value
