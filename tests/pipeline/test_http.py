"""The one HTTP path: what is retried, how long it waits, and what a failure says."""
import pytest

from pipeline.errors import APIError
from pipeline.http import ProviderClient, RetryPolicy, Timeouts
from tests.fakes.upstream import ok

FAST = RetryPolicy(total=3, backoff_factor=0.01, backoff_max=0.05, backoff_jitter=0.0)


def client(upstream, **kwargs) -> ProviderClient:
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("timeouts", Timeouts(connect=1, read=0.5))
    return ProviderClient(provider="fakeapi", layer="L1", base_url=upstream.url,
                          headers={"X-API-Key": "secret-key-123"}, **kwargs)


@pytest.fixture
def games(upstream):
    upstream.route("GET", "/v1/games", lambda seen: ok({"data": [1, 2, 3]}))
    upstream.route("POST", "/v1/generate", lambda seen: ok({"text": "done"}))
    return upstream


@pytest.mark.parametrize("fault", ["503", "500", "502", "reset", "slow:1.5", "malformed"])
def test_transient_faults_are_retried_and_succeed(games, fault):
    games.fail("/v1/games", fault)
    assert client(games).get("/v1/games") == {"data": [1, 2, 3]}
    assert len(games.requests_to("/v1/games")) == 2


def test_retry_after_is_honoured(games):
    games.fail("/v1/games", "429:1")
    assert client(games).get("/v1/games") == {"data": [1, 2, 3]}
    first, second = games.requests_to("/v1/games")
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "422"])
def test_other_4xx_are_not_retried(games, status):
    games.fail("/v1/games", status)
    with pytest.raises(APIError) as info:
        client(games).get("/v1/games")
    assert len(games.requests_to("/v1/games")) == 1
    assert info.value.retryable is False and info.value.status == int(status)


def test_no_request_is_retried_more_than_configured(games):
    games.fail("/v1/games", *["503"] * 10)
    with pytest.raises(APIError) as info:
        client(games).get("/v1/games")
    assert len(games.requests_to("/v1/games")) == FAST.total + 1
    assert info.value.retryable is True


def test_posts_are_not_retried_on_5xx_unless_safe(games):
    games.fail("/v1/generate", "503", "503")
    with pytest.raises(APIError):
        client(games).post("/v1/generate", json={})
    assert len(games.requests_to("/v1/generate")) == 1
    games.fail("/v1/generate", "503")
    assert client(games, retry_posts=True).post("/v1/generate", json={}) == {"text": "done"}


def test_failure_names_provider_method_path_status_never_the_key(games):
    games.fail("/v1/games", *["503"] * 10)
    with pytest.raises(APIError) as info:
        client(games).get("/v1/games", params={"key": "secret-key-123"})
    text = info.value.describe()
    assert "L1 fakeapi: GET /v1/games answered 503" in text
    assert "secret-key-123" not in text


def test_malformed_json_every_time_fails_in_words(games):
    games.fail("/v1/games", "malformed", "malformed", "malformed")
    with pytest.raises(APIError, match="malformed JSON"):
        client(games).get("/v1/games")
    assert len(games.requests_to("/v1/games")) == 3


def test_unreachable_host_fails_as_retryable():
    dead = ProviderClient(provider="fakeapi", base_url="http://127.0.0.1:9", policy=FAST,
                          timeouts=Timeouts(connect=0.2, read=0.2))
    with pytest.raises(APIError, match="could not connect") as info:
        dead.get("/v1/games")
    assert info.value.retryable


def test_missing_base_url_is_a_configuration_error():
    with pytest.raises(APIError, match="no base URL"):
        ProviderClient(provider="goatedbets", base_url="")


def test_retries_carry_the_same_request_id(games):
    games.fail("/v1/games", "503", "reset")
    client(games).get("/v1/games")
    client(games).get("/v1/games")
    ids = [seen.headers["X-Request-Id"] for seen in games.requests_to("/v1/games")]
    assert len(ids) == 4 and ids[0] == ids[1] == ids[2] != ids[3]


def test_the_hint_fits_the_failure(games):
    games.fail("/v1/games", *["500"] * (FAST.total + 1))
    with pytest.raises(APIError) as transient:
        client(games).get("/v1/games")
    assert "retry the job later" in transient.value.describe()
    games.fail("/v1/games", "401")
    with pytest.raises(APIError) as refused:
        client(games).get("/v1/games")
    assert "check the API key" in refused.value.describe()
