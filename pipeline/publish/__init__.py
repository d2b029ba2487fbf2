"""Publishing a rendered piece to a social platform's account, exactly once, and reading its figures back.

One module per platform (instagram, tiktok, youtube, x), each with `publish(api, piece, ledger)` and
`insights(api, post_id)`, written from the platform's published API reference (cited in each module).

Exactly once: a platform has no idempotency key, so each step's result is written to the job's ledger (a
database row the jobs app keeps, `jobs.models.Publication`) as soon as the platform answers, and the state is
"publishing" *before* the one call that makes the post public. A delivery that finds "published" returns the
post it recorded; one that finds "publishing" (the answer was lost, or the worker died before writing it) asks
the platform what became of that call before doing anything, and only posts again when the platform shows it
was not made.

The pipeline knows no Django: the account's token and the ledger are handed in (`Account`, `Ledger`).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import APIError, DistributionError
from pipeline.http import ProviderClient, RetryPolicy, Timeouts

logger = logging.getLogger("pipeline.publish")

PLATFORM_LABELS = {"instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube", "x": "X"}


class AccountBroken(DistributionError):
    """The account's token stopped working and could not be refreshed: a desk admin connects it again."""

    retryable = False


@dataclass
class Account:
    """A connected account as the pipeline sees it. `token()` is a token valid for a few minutes at least (the
    jobs side refreshes it first when it is near its end); `refresh()` forces a refresh after the platform
    refused the token, and raises AccountBroken when that fails too."""

    platform: str
    handle: str
    external_id: str
    token: Callable[[], str]
    refresh: Callable[[], str]
    # Marks the account as needing connecting again (the platform refused even a fresh token).
    broken: Callable[[str], None] = lambda problem: None

    @property
    def label(self) -> str:
        return f"{PLATFORM_LABELS.get(self.platform, self.platform)} account {self.handle}"


class Ledger(Protocol):
    """One publication's record (one piece, one account): read it, and write changes to it at once (committed
    before the next call to the platform). `state` is "" (nothing done), "preparing" (uploads and containers,
    nothing public), "publishing" (the call that makes it public was sent) or "published"; `steps` holds the
    platform's ids met on the way (containers, upload sessions, media ids)."""

    def read(self) -> dict: ...

    def write(self, *, note: str = "", **changes) -> None: ...


@dataclass
class Image:
    path: Path
    url: str
    alt: str = ""


@dataclass
class Piece:
    """What is posted: a reel (video), a carousel (images) or a still (one image), with the platform's text."""

    kind: str
    text: str
    title: str
    analytics_id: str
    video: Path | None = None
    video_url: str = ""
    images: list[Image] = field(default_factory=list)


@dataclass
class Published:
    post_id: str
    url: str
    note: str = ""


@dataclass
class Figures:
    """A post's figures to date, as the engagement rows keep them (jobs/services/engagement.py)."""

    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    reach: int = 0
    watch_time_s: float = 0.0


class PlatformAPI:
    """A platform's API for one account: the operator's address for it, the account's token on every call, and
    one refresh-and-retry when the platform says the token is no longer good. Errors are DistributionErrors in
    words, with the platform's own reason read from its answer by `explain` (each platform module has one)."""

    def __init__(self, platform: str, base_url: str, account: Account, *,
                 explain: Callable[[APIError, dict], tuple[str, str, str, bool | None]],
                 token_expired: Callable[[APIError, dict], bool],
                 auth: str = "bearer", sleep: Callable[[float], None] = time.sleep) -> None:
        self.platform, self.account, self.explain, self.token_expired = platform, account, explain, token_expired
        self.auth, self.sleep = auth, sleep
        # Reads are retried as every provider's are; a POST only when its connection failed before it was sent:
        # a post the platform took and whose answer was lost is found again by the ledger, never sent twice.
        self.client = ProviderClient(provider=platform, layer="L7", base_url=base_url, retry_posts=False,
                                     timeouts=Timeouts(connect=10, read=120), policy=RetryPolicy(total=4))
        # An upload's chunk (a PUT) whose answer was lost is not sent again blindly: the platform may have taken
        # it, and the client asks how far the upload got instead (read=0; refused connections are still retried).
        self.uploads = ProviderClient(provider=platform, layer="L7", base_url=base_url, retry_posts=False,
                                      timeouts=Timeouts(connect=10, read=300), policy=RetryPolicy(total=4, read=0))

    def _authorised(self, kwargs: dict, token: str) -> dict:
        kwargs = dict(kwargs)
        if self.auth == "query":
            kwargs["params"] = {**(kwargs.get("params") or {}), "access_token": token}
        else:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {token}"}
        return kwargs

    def request(self, method: str, path: str, *, upload: bool = False, **kwargs):
        """The platform's answer (a requests.Response), or a DistributionError naming the field and the fix.
        `upload`: a chunk of an upload (not retried after it was sent)."""
        token = self.account.token()
        client = self.uploads if upload else self.client
        for attempt in (1, 2):
            try:
                return client.request(method, path, **self._authorised(kwargs, token))
            except APIError as exc:
                answer = error_body(exc)
                if attempt == 1 and self.token_expired(exc, answer):
                    logger.info("%s refused the token of %s; refreshing it", self.platform, self.account.handle)
                    token = self.account.refresh()
                    continue
                raise self.refusal(exc, answer) from exc
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise DistributionError(f"{method} {path.split('?')[0]} answered something that is not JSON: "
                                    f"{response.text[:80]!r}", layer="L7", provider=self.platform, retryable=True,
                                    hint="the platform answered badly; the delivery is tried again later") from exc

    def refusal(self, exc: APIError, answer: dict) -> DistributionError:
        reason, field_name, hint, retryable = self.explain(exc, answer)
        if self.token_expired(exc, answer):
            self.account.broken(f"{PLATFORM_LABELS[self.platform]} refused a fresh token ({reason})")
            return AccountBroken(f"{self.account.label} refused its token again after a refresh ({reason})",
                                 layer="L7", provider=self.platform,
                                 hint="a desk admin connects the account again on the Accounts page")
        if retryable is None:
            retryable = exc.retryable
        error = DistributionError(f"{self.account.label}: {reason}", layer="L7", provider=self.platform,
                                  field=field_name, retryable=retryable, hint=hint or (
                                      "the platform is down or busy; the delivery is tried again later by itself"
                                      if retryable else "fix what is named, then deliver again"))
        error.status = exc.status
        # A refusal (4xx but 429) is not worth trying again by itself: the same request gets the same answer.
        error.redeliver = retryable
        return error

    # At most this long in one attempt (well under the layer's task timeout): past it the delivery is tried again
    # later, and the ledger makes it go on waiting for the same upload rather than start another.
    WAIT_MOST_S = 300.0

    def wait(self, what: str, check: Callable[[], str | None], *, first_s: float = 1.0, most_s: float = WAIT_MOST_S,
             every_max_s: float = 15.0) -> str:
        """Poll `check` (None: not yet; text: done) with a growing pause, for at most `most_s`."""
        waited, pause = 0.0, first_s
        while True:
            done = check()
            if done is not None:
                return done
            if waited >= most_s:
                raise DistributionError(f"{self.account.label}: {what} was still not ready after {int(waited)} s",
                                        layer="L7", provider=self.platform, retryable=True,
                                        hint="the platform is slow; the delivery is tried again later and picks "
                                             "up where it stopped")
            self.sleep(pause)
            waited += pause
            pause = min(every_max_s, pause * 2)


def error_body(exc: APIError) -> dict:
    """The platform's error answer decoded, or {} when it was not JSON (an HTML error page, a cut-off body)."""
    try:
        answer = json.loads(exc.body or "")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def count(value: Any) -> int:
    """A platform's count (an int, or a string of digits as YouTube sends them) as a non-negative int; anything
    else (NaN, a negative, a word, a number too big to be true) is refused in words."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a count")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0 or value > 10**13:
        raise ValueError(f"{str(value)[:40]!r} is not a count")
    return value


def seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or not 0 <= value <= 10**9:
        raise ValueError(f"{str(value)[:40]!r} is not a number of seconds")
    return float(value)


def bad_answer(platform: str, what: str, exc: Exception) -> DistributionError:
    return DistributionError(f"{PLATFORM_LABELS[platform]} answered {what} in a shape its reference does not "
                             f"document ({exc})", layer="L7", provider=platform, retryable=True,
                             hint="the platform answered badly; it is asked again later")
