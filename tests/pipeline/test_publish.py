"""The platform clients on their own (pipeline/publish), against the fakes of tests/fakes/platforms.py: chunk
rules, resumed uploads, documented limits, and answers of every wrong shape, which become DistributionErrors in
words and nothing else. The jobs side (the ledger in the database, the scheduler) is in tests/jobs/."""
from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import DistributionError
from pipeline.publish import Account, Image, Piece, instagram, tiktok, x, youtube
from tests.fakes import platforms as fakes
from tests.fakes.upstream import ok, stop


class Ledger:
    """The ledger's contract (pipeline.publish.Ledger) kept in memory: the jobs side keeps it in the database."""

    def __init__(self) -> None:
        self.record = {"state": "", "steps": {}, "post_id": "", "url": ""}
        self.notes = []

    def read(self) -> dict:
        return json.loads(json.dumps(self.record))

    def write(self, *, note: str = "", **changes) -> None:
        self.record.update(json.loads(json.dumps(changes)))
        if note:
            self.notes.append(note)


def account_of(fake, platform: str, external: str) -> Account:
    made = fake.oauth.token_for(external)
    return Account(platform=platform, handle="@gridironedge", external_id=external,
                   token=lambda: made["access_token"], refresh=lambda: made["access_token"])


@pytest.fixture
def tt():
    fake = fakes.serve_tiktok()
    yield fake
    stop(fake.upstream)


@pytest.fixture
def yt():
    fake = fakes.serve_youtube()
    yield fake
    stop(fake.upstream)


@pytest.fixture
def ig():
    fake = fakes.serve_instagram(processing_polls=0)
    yield fake
    stop(fake.upstream)


def reel(tmp_path, size: int) -> Piece:
    path = tmp_path / "reel.mp4"
    path.write_bytes(os.urandom(size))
    return Piece(kind="reel", text="Bills at Chiefs #NFL", title="Bills at Chiefs", analytics_id="me-1-v1",
                 video=path, video_url="https://files.example.com/reel.mp4")


@pytest.mark.parametrize("size,chunk,total", [(3_000_000, 3_000_000, 1), (12 * 2**20, 10 * 2**20, 1),
                                              (25 * 2**20, 10 * 2**20, 2), (64 * 2**20, 10 * 2**20, 6)])
def test_tiktok_chunks_follow_the_media_transfer_guide(size, chunk, total):
    assert tiktok.chunks(size) == (chunk, total)
    last = size - chunk * (total - 1)
    assert 5 * 2**20 <= chunk <= 64 * 2**20 or total == 1
    assert last <= 128 * 2**20


def test_tiktok_uploads_a_large_video_in_order_and_the_fake_takes_each_chunk(tt, tmp_path):
    piece = reel(tmp_path, 25 * 2**20)
    done = tiktok.publish(tt.upstream.url, account_of(tt, "tiktok", tt.open_id), piece, Ledger())
    puts = tt.upstream.requests_to("/upload/")
    assert [p.headers["Content-Range"] for p in puts] == [
        f"bytes 0-{10 * 2**20 - 1}/{25 * 2**20}", f"bytes {10 * 2**20}-{25 * 2**20 - 1}/{25 * 2**20}"]
    assert tt.posts[0]["bytes"] == 25 * 2**20 and done.url.endswith(f"/video/{tt.posts[0]['id']}")


def test_a_youtube_upload_cut_off_mid_file_resumes_at_the_offset_google_reports(yt, tmp_path):
    """given: a 9 MB Short (two chunks) whose first chunk's answer is lost
    when: the delivery runs again with the same ledger
    then: it asks the session how far it got (`bytes */total`, 308 + Range) and sends only the rest"""
    piece = reel(tmp_path, 9 * 2**20)
    ledger = Ledger()
    account = account_of(yt, "youtube", yt.channel_id)
    yt.upstream.fail("/upload/session/", "lost")
    with pytest.raises(DistributionError) as lost:
        youtube.publish(yt.upstream.url, account, piece, ledger)
    assert lost.value.retryable and ledger.record["state"] == "preparing"
    done = youtube.publish(yt.upstream.url, account, piece, ledger)
    ranges = [p.headers["Content-Range"] for p in yt.upstream.requests_to("/upload/session/")]
    assert ranges == [f"bytes 0-{youtube.CHUNK - 1}/{9 * 2**20}", f"bytes */{9 * 2**20}",
                      f"bytes {youtube.CHUNK}-{9 * 2**20 - 1}/{9 * 2**20}"]
    assert len(yt.posts) == 1 and done.post_id == yt.posts[0]["id"] and ledger.record["state"] == "published"


def test_youtube_titles_are_cut_to_a_hundred_characters_without_angle_brackets():
    piece = Piece(kind="reel", text="<b>" + "Long line " * 20 + "\n\nmore", title="t", analytics_id="a")
    title = youtube.title_of(piece)
    assert len(title) <= 100 and "<" not in title and ">" not in title


def test_instagram_refuses_in_words_when_the_day_s_api_posts_are_used_up(ig):
    ig.quota_usage = 100
    piece = Piece(kind="still", text="Bills at Chiefs", title="t", analytics_id="a",
                  images=[Image(path=None, url="https://files.example.com/a.jpg", alt="card")])
    with pytest.raises(DistributionError) as refused:
        instagram.publish(ig.upstream.url + "/v24.0", account_of(ig, "instagram", ig.user_id), piece, Ledger())
    assert "published 100 posts through the API in the last 24 hours" in refused.value.message
    assert refused.value.retryable and not ig.posts


def test_instagram_checks_caption_and_hashtags_before_sending_anything(ig):
    piece = Piece(kind="still", text=" ".join(f"#tag{i}" for i in range(31)), title="t", analytics_id="a",
                  images=[Image(path=None, url="https://files.example.com/a.jpg")])
    with pytest.raises(DistributionError) as refused:
        instagram.publish(ig.upstream.url + "/v24.0", account_of(ig, "instagram", ig.user_id), piece, Ledger())
    assert refused.value.field == "post.hashtags" and "31 hashtags" in refused.value.message
    assert not ig.upstream.seen


def test_a_token_refused_twice_marks_the_account_broken(ig):
    marked = []
    account = Account(platform="instagram", handle="@gridironedge", external_id=ig.user_id,
                      token=lambda: "at-expired", refresh=lambda: "at-still-expired", broken=marked.append)
    with pytest.raises(DistributionError) as refused:
        instagram.insights(ig.upstream.url + "/v24.0", account, "1", "reel")
    assert type(refused.value).__name__ == "AccountBroken" and "Accounts page" in refused.value.hint
    assert marked and "refused a fresh token" in marked[0]


hostile = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
# Shapes close to the documented ones, with the values gone wrong (NaN, negative, huge, text, lists).
bad_value = st.one_of(st.just(math.nan), st.just(-1), st.just(10**30), st.just("lots"), st.just([1]),
                      st.just(None), st.just(True), st.just({"value": 3}))


def answers(near: st.SearchStrategy) -> st.SearchStrategy:
    """An answer body: near-documented JSON with bad values, any JSON, an HTML error page, or a cut-off body."""
    return st.one_of(near.map(lambda v: json.dumps(v, allow_nan=True).encode()),
                     hostile.map(lambda v: json.dumps(v, allow_nan=True).encode()),
                     st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"), st.just(b'{"data": [{"na'))


INSIGHT_SHAPES = {
    "instagram": (lambda url: url + "/v24.0", "/v24.0/1/insights", bad_value.map(lambda v: {
        "data": [{"name": "views", "period": "lifetime", "values": [{"value": v}]}]})),
    "tiktok": (lambda url: url, "/v2/video/query/", bad_value.map(lambda v: {
        "data": {"videos": [{"id": "1", "view_count": v}]}, "error": {"code": "ok"}})),
    "youtube": (lambda url: url, "/youtube/v3/videos", bad_value.map(lambda v: {
        "items": [{"id": "1", "statistics": {"viewCount": v}}]})),
    "x": (lambda url: url, "/2/tweets", bad_value.map(lambda v: {
        "data": [{"id": "1", "public_metrics": {"impression_count": v}}]})),
}
MODULES = {"instagram": instagram, "tiktok": tiktok, "youtube": youtube, "x": x}


@pytest.mark.parametrize("platform", sorted(INSIGHT_SHAPES))
def test_insights_answers_of_any_wrong_shape_are_refused_in_words(platform):
    base, path, near = INSIGHT_SHAPES[platform]
    server = fakes.start()
    answer_box = {}
    method = "POST" if platform == "tiktok" else "GET"
    server.route(method, path, lambda seen: ok(answer_box["body"]))
    account = Account(platform=platform, handle="@gridironedge", external_id="17841400000000001",
                      token=lambda: "at-1", refresh=lambda: "at-1")

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=answers(near))
    def check(body):
        answer_box["body"] = body
        try:
            figures = MODULES[platform].insights(base(server.url), account, "1", "reel")
        except DistributionError as exc:
            assert exc.provider == platform and exc.message
            return
        # What got through is a set of counts a person can read.
        for value in (figures.views, figures.likes, figures.comments, figures.shares, figures.saves):
            assert isinstance(value, int) and 0 <= value <= 10**13
        assert math.isfinite(figures.watch_time_s) and figures.watch_time_s >= 0

    try:
        check()
    finally:
        stop(server)


def test_tiktok_status_answers_of_any_shape_are_refused_in_words():
    server = fakes.start()
    answer_box = {}
    server.route("POST", "/v2/post/publish/status/fetch/", lambda seen: ok(answer_box["body"]))
    account = Account(platform="tiktok", handle="@gridironedge", external_id="x", token=lambda: "at",
                      refresh=lambda: "at")
    api = tiktok._api(server.url, account)

    @settings(max_examples=40, deadline=None)
    @given(body=answers(bad_value.map(lambda v: {"data": {"status": v, "publicaly_available_post_id": v},
                                                 "error": {"code": "ok"}})))
    def check(body):
        answer_box["body"] = body
        try:
            data = tiktok._status(api, "v_pub_file~1")
        except DistributionError as exc:
            assert exc.provider == "tiktok" and exc.message
            return
        assert data["status"] in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX",
                                  "PUBLISH_COMPLETE")

    try:
        check()
    finally:
        stop(server)
