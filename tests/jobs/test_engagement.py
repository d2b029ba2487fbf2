"""Performance feedback: every delivered file carries its post's analytics id; figures reported under it (the
authenticated endpoint, or a CSV) show per preset and per segment on the dashboard and rank the preset list."""
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobs import services
from jobs.models import Engagement, Job
from pipeline.contracts.l7 import analytics_id

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "engagement-token-for-tests"


@pytest.fixture
def delivered(settings, preset, staff_user, destination):
    """A job rendered and delivered to the export folder (the tiny pipeline with the real L7)."""
    destination("folder")
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_delivery"}
    settings.ENGAGEMENT_TOKEN = TOKEN
    preset.config = {**preset.config, "providers": {"distribution": {"name": "folder"}}}
    preset.save()
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "posted"})
    services.job_approve(job_id=job.pk, user=staff_user)
    services.delivery_start(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    return job


def report(body, token=TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().post("/engagement", json.dumps(body) if not isinstance(body, bytes) else body,
                         content_type="application/json", **headers)


def post_id(job) -> str:
    return job.renders.get().analytics_id


def test_every_delivered_file_carries_the_posts_analytics_id(delivered, settings):
    render = delivered.renders.get()
    assert render.analytics_id == analytics_id(delivered.pk, render.plan_version.number)
    folder = settings.PIPELINE["EXPORT_DIR"] / str(delivered.pk) / f"v{render.plan_version.number}"
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["analytics_id"] == render.analytics_id
    assert metadata["files"] and all(f["analytics_id"] == render.analytics_id for f in metadata["files"])


def test_figures_are_saved_and_a_newer_report_replaces_an_older_one(delivered):
    """given a post, when its Instagram figures are reported twice and an older report arrives late,
    then the newest figures stand and the late one is counted as older."""
    now = timezone.now()
    first = {"analytics_id": post_id(delivered), "platform": "Instagram", "views": 1000, "likes": 50,
             "shares": 5, "watch_time_s": 9000.5, "reported_at": (now - timedelta(hours=2)).isoformat()}
    assert report({"posts": [first]}).json() == {"saved": 1, "older_than_kept": 0}
    newer = {**first, "views": 2500, "reported_at": (now - timedelta(hours=1)).isoformat()}
    assert report({"posts": [newer]}).json() == {"saved": 1, "older_than_kept": 0}
    late = {**first, "views": 10, "reported_at": (now - timedelta(hours=3)).isoformat()}
    assert report({"posts": [late]}).json() == {"saved": 0, "older_than_kept": 1}
    kept = Engagement.objects.get()
    assert (kept.platform, kept.views, kept.likes, kept.watch_time_s) == ("instagram", 2500, 50, 9000.5)


@pytest.mark.parametrize("token, sent", [("", TOKEN), (TOKEN, ""), (TOKEN, "wrong")])
def test_the_endpoint_takes_only_its_bearer_token(delivered, settings, token, sent):
    settings.ENGAGEMENT_TOKEN = token
    answer = report({"posts": [{"analytics_id": post_id(delivered), "platform": "tiktok", "views": 1}]}, token=sent)
    assert answer.status_code == 401 and "ENGAGEMENT_TOKEN" in answer.json()["error"]
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("change, field", [
    ({"views": -1}, "posts.1.views"), ({"views": "lots"}, "posts.1.views"), ({"views": True}, "posts.1.views"),
    ({"watch_time_s": float("nan")}, "posts.1.watch_time_s"), ({"watch_time_s": "inf"}, "posts.1.watch_time_s"),
    ({"platform": "in sta"}, "posts.1.platform"), ({"platform": ""}, "posts.1.platform"),
    ({"analytics_id": "me-000000000000-v9"}, "posts.1.analytics_id"), ({"colour": "red"}, "posts.1.colour"),
    ({"reported_at": "2026-01-01T00:00:00"}, "posts.1.reported_at"),
    ({"reported_at": "2999-01-01T00:00:00Z"}, "posts.1.reported_at"), ({"views": 10**14}, "posts.1.views")])
def test_one_bad_post_refuses_the_batch_naming_it_and_saves_nothing(delivered, change, field):
    good = {"analytics_id": post_id(delivered), "platform": "instagram", "views": 10}
    try:
        body = json.dumps({"posts": [good, {**good, "platform": "tiktok", **change}]})
    except ValueError:
        pytest.skip("not JSON")
    answer = report(body.encode())
    assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"posts": {}}', b'{"posts": []}', b'{"posts": [1]}'])
def test_a_body_that_is_not_a_batch_is_refused_in_words(delivered, body):
    answer = report(body)
    assert answer.status_code == 400 and answer.json()["errors"]


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                    max_size=3), max_leaves=8)


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts=st.lists(st.fixed_dictionaries({}, optional={
    "analytics_id": JSONISH, "platform": JSONISH | st.just("instagram"), "views": JSONISH,
    "likes": JSONISH, "shares": JSONISH, "watch_time_s": JSONISH, "reported_at": JSONISH}), max_size=4) | JSONISH)
def test_any_report_is_saved_or_refused_in_words(delivered, posts):
    before = Engagement.objects.count()
    try:
        body = json.dumps({"posts": posts}, allow_nan=True).encode()
    except ValueError:
        return
    answer = report(body)
    assert answer.status_code in (200, 400), answer.content
    if answer.status_code == 400:
        assert answer.json()["errors"] and Engagement.objects.count() == before


def test_a_csv_of_figures_is_imported(delivered, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_text("analytics_id,platform,views,likes,shares,watch_time_s,reported_at\n"
                    f"{post_id(delivered)},instagram,1200,80,12,15000,\n"
                    f"{post_id(delivered)},tiktok,900,,,,\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_engagement", str(path), stdout=out)
    assert "2 post(s) saved" in out.getvalue()
    assert sorted(Engagement.objects.values_list("platform", "views", "likes")) == [
        ("instagram", 1200, 80), ("tiktok", 900, 0)]


@pytest.mark.parametrize("text, says", [
    ("analytics_id,views\nme-000000000000-v1,10\n", "row 2.analytics_id: no delivered post"),
    ("analytics_id,platform,views\n{id},instagram,-5\n", "row 2.views"),
    ("analytics_id,platform,views\n{id},instagram,\n", "row 2.views"),
    ("platform,views\ninstagram,5\n", "needs a header row"),
    ("analytics_id,platform,views\n{id},instagram,5,extra\n", "more cells than the header"),
])
def test_a_bad_csv_names_the_row_and_saves_nothing(delivered, tmp_path, text, says):
    path = tmp_path / "figures.csv"
    path.write_text(text.format(id=post_id(delivered)), encoding="utf-8")
    with pytest.raises(CommandError, match=says.replace(".", r"\.")):
        call_command("import_engagement", str(path), "--platform", "instagram", stdout=io.StringIO())
    assert not Engagement.objects.exists()


def test_a_csv_that_is_not_utf8_is_named(delivered, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes("analytics_id,views\n\xff\xfe,1\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_engagement", str(path))


def test_the_dashboard_shows_figures_per_preset_and_segment_and_the_preset_list_ranks_them(
        delivered, staff_client, admin_user, preset):
    from presets.models import Preset

    other = Preset.objects.create(slug="quiet", name="Quiet preset", kind="reel", config=preset.config)
    report({"posts": [{"analytics_id": post_id(delivered), "platform": "instagram", "views": 4000, "likes": 300,
                       "shares": 100, "watch_time_s": 8000}]})
    page = staff_client.get("/studio/metrics/").content.decode()
    by_preset = page.split('id="by-preset"')[1].split("</table>")[0]
    assert "Test reel" in by_preset and "4000" in by_preset and "10 %" in by_preset and "2.0 s" in by_preset
    by_segment = page.split('id="by-segment"')[1].split("</table>")[0]
    assert "S1" in by_segment and "4000" in by_segment  # the segment as people call it (a test pipeline's "s1")
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get("/admin/presets/preset/").content.decode()
    assert listing.index("Test reel") < listing.index(other.name)
    assert "4,000" in listing
