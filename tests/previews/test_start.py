"""The start form refuses, in words, a job that is sure to fail or to say the wrong thing (issue 28): a day the
data source lists no games for, a game that has kicked off (unless the desk means it); the pages say when the
data is the shipped sample, and when a game has started or will have by the time its post goes out."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from jobs.models import Job, LayerRun
from pipeline.layers.l1_data import first_game
from pipeline.layers.l1_data.fixture import FixtureData
from presets.models import Preset
from tests.conftest import REEL_CONFIG
from tests.fakes import upstream as fake

pytestmark = pytest.mark.django_db


def fixture_game(days_from_today: int):
    day = timezone.localdate() + dt.timedelta(days=days_from_today)
    return FixtureData(options={}, ctx=None).slate(sport="nfl", date=day).matchups[0]


def test_a_game_that_has_kicked_off_is_refused_in_words_unless_the_desk_means_it(staff_client, preset):
    started = fixture_game(-3)
    form = {"preset": preset.slug, "sport": "nfl", "date": "", "matchup_id": started.id, "variants": "1"}
    response = staff_client.post("/studio/", form)
    assert response.status_code == 400 and not Job.objects.exists()
    (message,) = response.context["form"].errors["after_kickoff"]
    assert message.startswith(f"{started.away.full_name} @ {started.home.full_name} kicked off at ")
    # the box is offered now that the form has said which game has started
    assert b'name="after_kickoff"' in response.content
    response = staff_client.post("/studio/", {**form, "after_kickoff": "on"})
    assert response.status_code == 302 and Job.objects.get().inputs["matchup_id"] == started.id


def test_a_game_still_to_come_starts_and_the_box_is_not_asked(staff_client, preset):
    page = staff_client.get("/studio/")
    assert b'name="after_kickoff"' not in page.content
    assert b"Sample data in Test reel" in page.content
    ahead = fixture_game(3)
    response = staff_client.post("/studio/", {"preset": preset.slug, "sport": "nfl", "date": ahead.game_time.date(),
                                              "matchup_id": ahead.id, "variants": "1"})
    assert response.status_code == 302


def test_first_game_of_the_day_is_the_first_not_yet_started():
    slate = FixtureData(options={}, ctx=None).slate(sport="nfl", date=dt.date(2026, 11, 22)).matchups
    times = sorted({m.game_time for m in slate})
    assert len(times) >= 2
    picked = first_game(slate, times[0] + dt.timedelta(minutes=1))
    assert picked.game_time == times[1]
    # when every game has started, the day's first: the form asks before starting it
    assert first_game(slate, times[-1] + dt.timedelta(days=1)).game_time == times[0]


def test_a_day_with_no_games_is_refused_in_the_form(staff_client, upstream, settings):
    """A preset reading balldontlie (the fake after its published API: tests/fakes/upstream.py), on a day it lists
    no games: refused on the date, in words; no job is made to fail at L1 two seconds later."""
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS,
                                 "balldontlie": {"api_key": "k", "base_url": upstream.url}}
    upstream.route("GET", "/nba/v1/games", lambda seen: fake.ok(
        json.dumps({"data": [], "meta": {"next_cursor": None, "per_page": 100}}).encode()))
    config = json.loads(json.dumps(REEL_CONFIG))
    config.setdefault("providers", {})["data"] = {"name": "balldontlie"}
    real = Preset.objects.create(slug="real-reel", name="Real reel", kind="reel", config=config)
    response = staff_client.post("/studio/", {"preset": real.slug, "sport": "nba", "date": "2026-12-24",
                                              "variants": "1"})
    assert response.status_code == 400 and not Job.objects.exists()
    assert response.context["form"].errors["date"] == [
        "NBA: no games on 24 December 2026 in this preset's data source. Pick another date or sport."]
    assert b"Sample data in Real reel" not in staff_client.get("/studio/").content


def test_the_job_page_says_the_data_is_a_sample_and_the_game_has_started(staff_client, preset):
    started = fixture_game(-3)
    job = Job.objects.create(preset=preset, inputs={"sport": "nfl", "date": None, "matchup_id": started.id})
    page = staff_client.get(job.get_absolute_url())
    assert b"kickoff-notice" not in page.content  # L1 has not read the game yet
    from pipeline.contracts import DataPackage

    now = dt.datetime.now(dt.UTC)
    data = DataPackage(source="fixture", fetched_at=now, odds_as_of=now, matchup=started)
    LayerRun.objects.create(job=job, layer="L1", attempt=1, status="done", output=data.model_dump(mode="json"))
    page = staff_client.get(job.get_absolute_url()).content.decode()
    assert "no longer pregame" in page and 'id="sample-notice"' in page and "same games and odds" in page
    # a game still to come, whose post is slotted after its kick-off
    ahead = fixture_game(3)
    later = Job.objects.create(preset=preset, inputs={"sport": "nfl", "date": None, "matchup_id": ahead.id},
                               publish_at=ahead.game_time + dt.timedelta(hours=1), status=Job.Status.AWAITING_REVIEW)
    data = DataPackage(source="fixture", fetched_at=now, odds_as_of=now, matchup=ahead)
    LayerRun.objects.create(job=later, layer="L1", attempt=1, status="done", output=data.model_dump(mode="json"))
    page = staff_client.get(later.get_absolute_url()).content.decode()
    assert "is before this piece is due to go out" in page
    calendar = staff_client.get("/studio/calendar/").content.decode()
    assert f"after kick-off ({ahead.game_time:%H:%M} UTC)" in calendar
    assert "not delivered: the preset has no destination" in calendar


def test_the_preset_editor_is_reached_from_the_studio(staff_client, preset):
    """A designer's day starts at the presets: the header links to a list of them, each opening the studio's
    editor (it was reachable only through the admin)."""
    page = staff_client.get("/studio/").content.decode()
    assert 'href="/studio/presets/"' in page
    listing = staff_client.get("/studio/presets/").content.decode()
    assert f'href="/studio/presets/{preset.slug}/"' in listing and "sample slate" in listing
    assert "not delivered" in listing
    assert staff_client.get(f"/studio/presets/{preset.slug}/").status_code == 200


def test_a_post_slotted_after_its_games_kickoff_asks_before_approval(staff_client, preset):
    """A game still to come, but the post's slot is after its start: Approve asks (409, in words) first."""
    from pipeline.contracts import DataPackage

    ahead = fixture_game(3)
    now = dt.datetime.now(dt.UTC)
    job = Job.objects.create(preset=preset, inputs={"sport": "nfl", "date": None, "matchup_id": ahead.id},
                             publish_at=ahead.game_time + dt.timedelta(hours=1), status=Job.Status.AWAITING_REVIEW)
    data = DataPackage(source="fixture", fetched_at=now, odds_as_of=now, matchup=ahead)
    LayerRun.objects.create(job=job, layer="L1", attempt=1, status="done", output=data.model_dump(mode="json"))
    answer = staff_client.post(f"/studio/jobs/{job.pk}/approve", json.dumps({}), content_type="application/json")
    assert answer.status_code == 409
    assert "before this post is due to go out" in answer.json()["kickoff"]
    assert "Move the delivery earlier" in answer.json()["kickoff"]
