"""Publishing to Instagram, TikTok, YouTube and X at the slot, exactly once, and reading the figures back:
through the real scheduler and L7, against fakes on loopback built from each platform's reference
(tests/fakes/platforms.py)."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler

from jobs import services
from jobs.models import Engagement, Job, Publication
from jobs.services.publishing import insights_pull_due
from presets import accounts
from presets.models import Account, Destination, Preset
from tests.fakes import platforms as fakes
from tests.fakes.upstream import stop
from tests.pipelines import POST_CAPTION

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.Status


class Desk:
    """The four fakes, the operator's settings pointing at them, and a connected account on each."""

    def __init__(self, settings) -> None:
        self.instagram = fakes.serve_instagram()
        self.tiktok = fakes.serve_tiktok()
        self.youtube = fakes.serve_youtube()
        self.x = fakes.serve_x()
        scopes = settings.PLATFORM_SCOPES
        ig, tt, yt, x = (f.upstream.url for f in (self.instagram, self.tiktok, self.youtube, self.x))
        settings.PLATFORMS = {
            "instagram": {"client_id": "ig-client", "client_secret": "ig-secret", "authorize_url": f"{ig}/authorize",
                          "token_url": f"{ig}/oauth/access_token", "api_url": f"{ig}/v24.0", "revoke_url": "",
                          **scopes["instagram"]},
            "tiktok": {"client_id": "tt-client-key", "client_secret": "tt-secret", "authorize_url": f"{tt}/authorize",
                       "token_url": f"{tt}/v2/oauth/token/", "api_url": tt, "revoke_url": f"{tt}/v2/oauth/revoke/",
                       **scopes["tiktok"]},
            "youtube": {"client_id": "yt-client.apps.googleusercontent.com", "client_secret": "yt-secret",
                        "authorize_url": f"{yt}/authorize", "token_url": f"{yt}/token", "api_url": yt,
                        "revoke_url": f"{yt}/revoke", "analytics_url": yt, **scopes["youtube"]},
            "x": {"client_id": "x-client", "client_secret": "x-secret", "authorize_url": f"{x}/authorize",
                  "token_url": f"{x}/2/oauth2/token", "api_url": x, "revoke_url": f"{x}/2/oauth2/revoke",
                  **scopes["x"]},
        }
        self.accounts = {}
        for platform, fake, external in (("instagram", self.instagram, self.instagram.user_id),
                                         ("tiktok", self.tiktok, self.tiktok.open_id),
                                         ("youtube", self.youtube, self.youtube.channel_id),
                                         ("x", self.x, self.x.user_id)):
            self.accounts[platform] = self.connect(platform, fake, external)
            Destination.objects.create(name=f"{platform}-brand", kind=platform, account=self.accounts[platform])

    @staticmethod
    def connect(platform, fake, external) -> Account:
        from pipeline.publish.oauth import _token

        made = fake.oauth.token_for(external)
        account = Account(platform=platform, external_id=external, handle="@gridironedge", connected_at=timezone.now())
        accounts._store(account, _token(made))
        account.save()
        return account

    @property
    def fakes(self):
        return {"instagram": self.instagram, "tiktok": self.tiktok, "youtube": self.youtube, "x": self.x}

    def close(self) -> None:
        for fake in self.fakes.values():
            stop(fake.upstream)


@pytest.fixture
def desk(settings):
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_publishing"}
    made = Desk(settings)
    yield made
    made.close()


def publishing_preset(kind: str, *names: str) -> Preset:
    return Preset.objects.create(slug=f"test-{kind}", name=f"Test {kind}", kind=kind, config={
        "format": {"kind": kind, "width": 1080, "height": 1920 if kind == "reel" else 1350, "fps": 30},
        "providers": {"distribution": {"name": names[0], "also": list(names[1:])}}})


def approved_for(preset, user, *, slot_in=timedelta(minutes=30)) -> Job:
    """A job approved now ("10:00") for a slot `slot_in` later ("10:30"): rendered and waiting on its schedule."""
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == S.AWAITING_REVIEW, job.error_message
    services.delivery_reschedule(job_id=job.pk, publish_at=timezone.now() + slot_in, user=user)
    services.job_approve(job_id=job.pk, user=user)
    job.refresh_from_db()
    assert job.status == S.SCHEDULED, job.error_message
    return job


def the_slot_comes(job) -> Job:
    """What the cluster's scheduler does at the slot (every 30 s)."""
    Schedule.objects.filter(name=f"deliver {job.pk}").update(next_run=timezone.now() - timedelta(seconds=1))
    scheduler(broker=get_broker())
    job.refresh_from_db()
    return job


def test_a_reel_approved_at_ten_is_published_to_all_four_at_its_slot_and_its_figures_fill_the_metrics(
        desk, staff_user, settings):
    """given: a reel preset that publishes to the brand's Instagram, TikTok, YouTube and X accounts
    when: a reel is approved for a slot half an hour ahead, the slot comes, and the insights pull runs
    then: nothing is posted before the slot; at the slot each platform has exactly one post carrying the approved
    post copy; the post ids and links are on the job page; the pull puts each platform's figures into the
    engagement rows the metrics page reads"""
    preset = publishing_preset("reel", "instagram-brand", "tiktok-brand", "youtube-brand", "x-brand")
    job = approved_for(preset, staff_user)
    assert all(not fake.posts for fake in desk.fakes.values())

    job = the_slot_comes(job)
    assert job.status == S.DONE, job.error_message
    instagram, tiktok, youtube, x = (desk.fakes[p].posts for p in ("instagram", "tiktok", "youtube", "x"))
    assert [len(posts) for posts in (instagram, tiktok, youtube, x)] == [1, 1, 1, 1]
    caption = POST_CAPTION.replace("Monday", f"Monday ({str(job.pk)[:8]})")
    assert instagram[0]["caption"].startswith(caption) and "#NFL" in instagram[0]["caption"]
    assert instagram[0]["params"]["media_type"] == "REELS"
    assert tiktok[0]["title"].startswith(caption) and tiktok[0]["bytes"] > 1000
    assert youtube[0]["snippet"]["description"].startswith(caption.replace("<", ""))
    assert youtube[0]["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False}
    assert x[0]["text"].endswith("#NFL #BillsMafia #ChiefsKingdom") and len(x[0]["text"]) <= 280

    # Instagram fetched the reel from a signed link L7 made: it serves the rendered file to anyone holding it.
    link = urlsplit(instagram[0]["params"]["video_url"])
    served = Client().get(f"{link.path}?{link.query}")
    assert served.status_code == 200
    video = next(f for f in job.layer_runs.get(layer="L6").output["files"] if f["kind"] == "video")
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == video["sha256"]

    published = {p.platform: p for p in Publication.objects.filter(job=job)}
    assert {p.state for p in published.values()} == {"published"}
    assert published["instagram"].post_id == instagram[0]["id"]
    assert published["youtube"].url == f"https://www.youtube.com/shorts/{youtube[0]['id']}"
    client = Client()
    client.force_login(staff_user)
    page = client.get(f"/studio/jobs/{job.pk}/").content.decode()
    for platform, publication in published.items():
        assert publication.post_id in page and publication.url in page, platform

    # The first pull is due an hour after posting; the scheduled task reads every platform's figures.
    later = timezone.now() + timedelta(hours=1, minutes=1)
    assert insights_pull_due(now=later)["pulled"] == 4
    figures = {e.platform: e for e in Engagement.objects.filter(render__job=job)}
    assert figures["instagram"].views == 1000 and figures["instagram"].saves == 30
    assert figures["instagram"].watch_time_s == pytest.approx(6.4 * 1000)
    assert figures["tiktok"].views == 2000 and figures["youtube"].views == 3000 and figures["x"].views == 4000
    assert figures["youtube"].watch_time_s == pytest.approx(12 * 3000)
    metrics = client.get("/studio/metrics/").content.decode()
    assert "10,000" in metrics or "10000" in metrics, "the four platforms' views, summed on the metrics page"

    # The second pull, an hour on, replaces the totals (figures to date) and schedules the next.
    assert insights_pull_due(now=later + timedelta(hours=1, minutes=1))["pulled"] == 4
    assert Engagement.objects.get(render__job=job, platform="instagram").views == 2000
    assert Engagement.objects.filter(render__job=job).count() == 4


@pytest.mark.parametrize("kind", ["carousel", "still"])
def test_a_carousel_and_a_still_are_published_as_each_platform_takes_pictures(desk, staff_user, kind):
    """given: a carousel (three slides) or a still for Instagram, TikTok and X
    when: its slot comes
    then: Instagram gets a CAROUSEL container of three children (or one image) with the slides' alt text,
    TikTok a photo post of the slides' links, X the pictures with their alt text"""
    preset = publishing_preset(kind, "instagram-brand", "tiktok-brand", "x-brand")
    job = the_slot_comes(approved_for(preset, staff_user))
    assert job.status == S.DONE, job.error_message
    slides = 3 if kind == "carousel" else 1
    post = desk.instagram.posts[0]
    if kind == "carousel":
        assert post["params"]["media_type"] == "CAROUSEL" and len(post["params"]["children"].split(",")) == 3
        children = [desk.instagram.containers[c]["params"] for c in post["params"]["children"].split(",")]
        assert children[0]["alt_text"] == "The matchup card" and all(c["is_carousel_item"] == "true" for c in children)
    else:
        assert post["params"]["image_url"].startswith("http") and post["params"]["alt_text"] == "The matchup card"
    assert len(desk.tiktok.posts[0]["photos"]) == slides
    assert len(desk.x.posts[0]["media_ids"]) == slides and desk.x.posts[0]["alt"][0] == "The matchup card"


def test_youtube_refuses_a_carousel_in_words_and_the_others_are_still_published(desk, staff_user):
    preset = publishing_preset("carousel", "instagram-brand", "youtube-brand")
    job = the_slot_comes(approved_for(preset, staff_user))
    assert job.status == S.FAILED
    assert "YouTube takes videos only" in job.error_message and "delivered to instagram-brand" in job.error_message
    assert len(desk.instagram.posts) == 1 and not desk.youtube.posts


@pytest.mark.parametrize("platform,publishing_call", [
    ("instagram", "/v24.0/17841400000000001/media_publish"), ("tiktok", "/upload/"),
    ("youtube", "/upload/session/"), ("x", "/2/tweets")])
def test_an_answer_lost_after_the_post_was_made_does_not_post_it_twice(desk, staff_user, platform,
                                                                       publishing_call):
    """given: the platform makes the post public and the connection is cut before its answer arrives
    when: the delivery is tried again (as its retry schedule does)
    then: the ledger, written as "publishing" before the call, makes the retry ask the platform what became of
    it: it finds the post and records it; the platform has one post"""
    preset = publishing_preset("reel", f"{platform}-brand")
    job = approved_for(preset, staff_user)
    desk.fakes[platform].upstream.fail(publishing_call, "lost")
    job = the_slot_comes(job)
    assert job.status == S.SCHEDULED, job.error_message  # to be tried again later, by itself
    publication = Publication.objects.get(job=job)
    assert publication.state == "publishing" and not publication.post_id
    assert len(desk.fakes[platform].posts) == 1

    job = the_slot_comes(job)
    assert job.status == S.DONE, job.error_message
    assert len(desk.fakes[platform].posts) == 1
    publication.refresh_from_db()
    assert publication.state == "published" and publication.post_id
    assert publication.post_id in {str(p["id"]) for p in desk.fakes[platform].posts} | {
        str(p.get("publish_id")) for p in desk.fakes[platform].posts}


def test_a_worker_that_dies_between_posting_and_recording_is_followed_without_a_second_post(
        desk, staff_user, monkeypatch):
    """given: X answers the post, and the worker dies before the post id is written
    when: the delivery runs again
    then: the post is found on the account by its media and recorded; X has one post"""
    from jobs.services import publishing

    preset = publishing_preset("reel", "x-brand")
    job = approved_for(preset, staff_user)
    real_write = publishing.PublicationLedger.write

    def dies_when_recording(self, **changes):
        if changes.get("state") == "published":
            raise KeyboardInterrupt("the worker was killed")
        return real_write(self, **changes)

    monkeypatch.setattr(publishing.PublicationLedger, "write", dies_when_recording)
    with pytest.raises(KeyboardInterrupt):
        the_slot_comes(job)
    monkeypatch.setattr(publishing.PublicationLedger, "write", real_write)
    assert len(desk.x.posts) == 1 and Publication.objects.get(job=job).state == "publishing"

    services.watchdog_run(stale_after_s=0)  # the dead worker's attempt is given up and L7 queued again
    job.refresh_from_db()
    assert job.status == S.DONE, job.error_message
    assert len(desk.x.posts) == 1
    assert Publication.objects.get(job=job).post_id == desk.x.posts[0]["id"]


def test_an_expired_token_is_refreshed_and_a_revoked_one_marks_the_account(desk, staff_user):
    """given: TikTok no longer takes the stored access token
    when: the slot comes
    then: the token is refreshed with the refresh token and the post made; later, with the refresh token
    revoked too, the account is marked as needing connecting again, the job fails naming it, and the Accounts
    page says so"""
    preset = publishing_preset("reel", "tiktok-brand")
    desk.tiktok.oauth.expire_all()
    job = the_slot_comes(approved_for(preset, staff_user))
    assert job.status == S.DONE, job.error_message
    account = Account.objects.get(platform="tiktok")
    assert account.refreshed_at is not None and account.status == "connected"
    assert len(desk.tiktok.requests_to("/v2/oauth/token/") if hasattr(desk.tiktok, "requests_to") else
               desk.tiktok.upstream.requests_to("/v2/oauth/token/")) == 1

    desk.tiktok.oauth.expire_all()
    desk.tiktok.oauth.refresh.clear()
    preset.slug, preset.pk = "test-reel-2", None
    preset.save()
    job = the_slot_comes(approved_for(preset, staff_user))
    assert job.status == S.FAILED
    assert "TikTok account @gridironedge" in job.error_message and "Accounts page" in job.error_message
    account.refresh_from_db()
    assert account.status == "broken" and "refused" in account.problem
    client = Client()
    client.force_login(staff_user)
    page = client.get("/studio/accounts/").content.decode()
    assert "Needs connecting again" in page and len(desk.tiktok.posts) == 1
    studio = client.get("/studio/").content.decode()
    assert "TikTok account @gridironedge needs connecting again" in studio  # the desk is told where it works


def test_an_instagram_token_near_its_end_is_renewed_before_use(desk, staff_user):
    account = desk.accounts["instagram"]
    old = accounts._token_of(account).access_token
    Account.objects.filter(pk=account.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    assert accounts.account_refresh(account.pk).access_token != old
    account.refresh_from_db()
    assert account.expires_at > timezone.now() + timedelta(days=59)
    assert desk.instagram.upstream.requests_to("/v24.0/refresh_access_token")


def test_the_tokens_are_encrypted_at_rest(desk):
    account = Account.objects.get(platform="x")
    token = accounts._token_of(account).access_token
    assert token.startswith("at-") and token not in account.sealed_token
    assert "rt-" not in account.sealed_token


def test_x_rate_limit_names_when_and_the_delivery_waits(desk, staff_user):
    reset = int((timezone.now() + timedelta(minutes=15)).timestamp())
    desk.x.upstream.route("POST", "/2/tweets", lambda seen: fakes.ok(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        status=429, headers={"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                             "x-rate-limit-reset": str(reset)}))
    job = the_slot_comes(approved_for(publishing_preset("reel", "x-brand"), staff_user))
    assert job.status == S.SCHEDULED
    retry = job.events.get(type="delivery.retry").payload
    assert "X's rate limit was reached until" in retry["error"]
    assert Publication.objects.get(job=job).state == "publishing" and not desk.x.posts


def test_an_instagram_container_that_fails_processing_is_refused_in_words(desk, staff_user):
    real = desk.instagram.route

    def erroring(seen):
        status, headers, body = real(seen)
        answer = json.loads(body)
        if answer.get("status_code") in ("IN_PROGRESS", "FINISHED"):
            answer = {"status_code": "ERROR", "status": "Error: 2207026", "id": answer["id"]}
        return status, headers, json.dumps(answer).encode()

    desk.instagram.upstream.route("GET", "/v24.0/", erroring)
    job = the_slot_comes(approved_for(publishing_preset("reel", "instagram-brand"), staff_user))
    assert job.status == S.FAILED
    assert "Instagram could not process the file" in job.error_message and "PUBLIC_URL" in job.error_message


def test_connecting_an_account_through_the_platform_with_pkce(desk, staff_user, settings):
    """given: a desk admin on the Accounts page
    when: they press Connect X, the platform's consent page sends them back with a code, and later Disconnect
    then: the consent link carries the client, the callback, the scopes and an S256 challenge; the callback
    with the state trades the code with its verifier, names the account and makes its destination; a callback
    with another state is refused; disconnecting revokes the token at X and deletes it here"""
    Destination.objects.filter(kind="x").delete()
    Account.objects.filter(platform="x").delete()
    client = Client()
    client.force_login(staff_user)
    answer = client.post("/studio/accounts/connect/x")
    assert answer.status_code == 302
    consent = urlsplit(answer["Location"])
    query = {k: v[0] for k, v in parse_qs(consent.query).items()}
    assert answer["Location"].startswith(settings.PLATFORMS["x"]["authorize_url"])
    assert query["client_id"] == "x-client" and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == f"{settings.PUBLIC_URL}/studio/accounts/callback/x"
    assert "offline.access" in query["scope"].split()

    forged = client.get("/studio/accounts/callback/x", {"code": "whatever", "state": "not-ours"}, follow=True)
    assert "does not belong to a connection started here" in forged.content.decode()
    assert not Account.objects.filter(platform="x").exists()

    consent = urlsplit(client.post("/studio/accounts/connect/x")["Location"])
    query = {k: v[0] for k, v in parse_qs(consent.query).items()}
    code = desk.x.oauth.issue_code(desk.x.user_id, query["code_challenge"], query["redirect_uri"])
    done = client.get("/studio/accounts/callback/x", {"code": code, "state": query["state"]}, follow=True)
    page = done.content.decode()
    assert "X account @gridironedge connected" in page and "x-gridironedge" in page
    account = Account.objects.get(platform="x")
    assert account.external_id == desk.x.user_id and accounts._token_of(account).refresh_token.startswith("rt-")
    assert Destination.objects.get(name="x-gridironedge").account == account

    client.post(f"/studio/accounts/{account.pk}/disconnect")
    account.refresh_from_db()
    assert account.status == "revoked" and account.sealed_token == ""
    assert desk.x.oauth.revoked and desk.x.oauth.revoked[-1].startswith("rt-")


def test_only_a_desk_admin_connects_accounts(desk, db):
    from tests.conftest import desk_member

    reviewer = desk_member("rita", "reviewer")
    client = Client()
    client.force_login(reviewer)
    assert client.post("/studio/accounts/connect/x").status_code == 403
    assert client.get("/studio/accounts/").status_code == 403


def test_the_pages_say_when_the_platforms_cannot_fetch_the_files(desk, staff_user, settings):
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    client = Client()
    client.force_login(staff_user)
    assert "which they cannot reach" in client.get("/studio/accounts/").content.decode()
    settings.PUBLIC_URL = "https://studio.example.com"
    assert "which they cannot reach" not in client.get("/studio/accounts/").content.decode()
