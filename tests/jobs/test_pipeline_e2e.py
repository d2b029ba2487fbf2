"""Jobs through the real layers, offline: L1..L5 to review, then L6 renders what was approved."""
import copy
import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from jobs import services
from jobs.models import Job, Render
from pipeline.media import ffmpeg
from presets.models import Preset
from tests.fakes import upstream as fake

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipped(db):
    call_command("load_presets", stdout=io.StringIO())
    return {p.slug: p for p in Preset.objects.all()}


def small_reel(shipped, **changes) -> Preset:
    """reel_hype at a quarter of the size with one prop, so a real render is quick in tests."""
    config = copy.deepcopy(shipped["reel_hype"].config)
    config["format"].update(width=360, height=640)
    config["segments"].update(props=1, hook=False)
    for path, value in changes.items():
        section, key = path.split("__")
        config.setdefault(section, {})[key] = value
    preset, _ = Preset.objects.update_or_create(slug="small_reel", defaults={
        "name": "Small reel", "kind": "reel", "config": config})
    return preset


def create(preset, **inputs):
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "nfl-20261122-buf-kc",
                                                      **inputs})


@pytest.mark.parametrize("slug", ["reel_hype", "carousel_illustrated", "single_image_stat"])
def test_each_shipped_preset_reaches_review(shipped, slug):
    job = create(shipped[slug])
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    plan = job.plan_versions.get(number=1).plan
    assert plan["kind"] == shipped[slug].kind
    assert job.assets.filter(kind="background").exists()
    # Only a reel is heard: a carousel's slides and a still are timed by L4, not narrated (nothing is synthesised
    # that nobody would hear).
    assert job.assets.filter(kind="narration").exists() == (slug == "reel_hype")
    assert ("narration" in [track["role"] for track in plan["audio"]]) == (slug == "reel_hype")


def test_reel_renders_what_was_approved(shipped, staff_user):
    job = create(small_reel(shipped))
    services.job_approve(job_id=job.pk, user=staff_user, adjustments={"text_scale": 1.2})
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    render = Render.objects.get(job=job)
    assert render.plan_version.number == 2 and render.status == Render.Status.DONE
    video = next(f for f in render.files if f["kind"] == "video")
    info = ffmpeg.read_back(job.work_dir / video["file"])
    plan = render.plan_version.plan
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (360, 640, "h264", "aac")
    assert abs(info.frames - round(plan["duration"] * plan["fps"])) <= 1
    assert any(f["kind"] == "poster" for f in render.files)


def test_the_files_download_named_from_the_job_and_all_at_once(shipped, staff_user, staff_client):
    """Each file is saved under a name from the job (two jobs' "final.mp4" no longer collide in a downloads folder)
    and "Download all" gives a zip of them with each platform's post text."""
    import zipfile

    job = create(small_reel(shipped))
    services.job_approve(job_id=job.pk, user=staff_user)
    page = staff_client.get(job.get_absolute_url()).content.decode()
    base = "2026-11-22_buf-kc_reel_v2"  # the game's day and teams, the kind, the approved plan version
    for name in (f"{base}.mp4", f"{base}_poster.jpg", f"{base}.srt", f"{base}.vtt"):
        assert f'download="{name}"' in page, name
    # the player shows the poster before it plays, not a blank first frame
    poster = next(f for f in Render.objects.get(job=job).files if f["kind"] == "poster")
    assert f'poster="/studio/jobs/{job.pk}/files/{poster["file"]}"' in page
    answer = staff_client.get(f"/studio/jobs/{job.pk}/download.zip")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    assert f'filename="{base}.zip"' in answer["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert sorted(archive.namelist()) == sorted([f"{base}.mp4", f"{base}_poster.jpg", f"{base}.srt", f"{base}.vtt",
                                                 f"{base}_post-instagram.txt", f"{base}_post-tiktok.txt",
                                                 f"{base}_post-x.txt"])
    video = next(f for f in Render.objects.get(job=job).files if f["kind"] == "video")
    assert archive.read(f"{base}.mp4") == (job.work_dir / video["file"]).read_bytes()
    assert "1-800-GAMBLER" in archive.read(f"{base}_post-x.txt").decode()
    assert staff_client.get(f"/studio/jobs/{create(small_reel(shipped)).pk}/download.zip").status_code == 404


@pytest.mark.parametrize(("slug", "kinds"), [("carousel_illustrated", {"slide"}), ("single_image_stat", {"image"})])
def test_carousels_and_stills_render_images(shipped, staff_user, slug, kinds):
    job = create(shipped[slug])
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    render = Render.objects.get(job=job)
    assert {f["kind"] for f in render.files} == kinds
    from PIL import Image

    for output in render.files:
        with Image.open(job.work_dir / output["file"]) as image:
            assert image.size == (shipped[slug].config["format"]["width"], shipped[slug].config["format"]["height"])
            assert np.asarray(image).std() > 10  # a real picture, not a flat fill
            # What Instagram's API and TikTok's photo posts take: JPEG, tagged sRGB, full-resolution colour.
            assert image.format == "JPEG" and output["file"].endswith(".jpg")
            from PIL import ImageCms

            profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            assert "sRGB" in ImageCms.getProfileDescription(profile)
            from PIL import JpegImagePlugin

            assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4


def test_second_job_reuses_cached_layers(shipped):
    preset = small_reel(shipped)
    create(preset)
    second = create(preset)
    statuses = dict(second.layer_runs.values_list("layer", "status"))
    assert statuses == {"L1": "reused", "L2": "reused", "L3": "reused", "L4": "reused", "L5": "reused"}
    second.refresh_from_db()
    assert second.status == Job.Status.AWAITING_REVIEW
    assert (second.work_dir / "L4" / "narration.wav").is_file()


def test_a_voice_change_reruns_only_speech(shipped):
    create(small_reel(shipped))
    second = create(small_reel(shipped, voice__words_per_minute=150))
    statuses = dict(second.layer_runs.values_list("layer", "status"))
    assert statuses == {"L1": "reused", "L2": "reused", "L3": "reused", "L4": "done", "L5": "reused"}


def test_l7_exports_to_a_folder(shipped, staff_user, settings, destination):
    destination("folder")
    preset = small_reel(shipped)
    preset.config["providers"]["distribution"] = {"name": "folder"}
    preset.save()
    job = create(preset)
    services.delivery_start(job_id=job.pk, user=staff_user)  # "deliver now": not at the game's slot
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    exported = settings.PIPELINE["EXPORT_DIR"] / str(job.pk) / "v2"
    assert {p.name for p in exported.iterdir()} >= {"final.mp4", "poster.jpg", "metadata.json", "captions.srt",
                                                     "captions.vtt"}
    metadata = json.loads((exported / "metadata.json").read_text())
    assert metadata["plan_version"] == 2
    assert (exported / "captions.vtt").read_text().startswith("WEBVTT")
    # the post copy as approved goes with the files: in the metadata and as each platform's text beside them
    assert metadata["post"]["caption"] and set(metadata["post"]["platforms"]) == {"instagram", "tiktok", "x"}
    for platform in ("instagram", "tiktok", "x"):
        assert (exported / f"post-{platform}.txt").read_text().strip() == metadata["post"]["platforms"][platform]
    assert len(metadata["post"]["platforms"]["x"]) <= 280


def test_a_rendered_reel_waits_for_the_slot_l2_chose(shipped, staff_user, destination):
    """given: a reel with a destination, for a game whose slot L2 puts ahead of now
    then: once rendered it waits `scheduled` at exactly that slot, with nothing delivered yet"""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime
    from django_q.models import Schedule

    destination("folder")
    preset = small_reel(shipped)
    preset.config["providers"]["distribution"] = {"name": "folder"}
    preset.save()
    game_day = timezone.localdate() + timezone.timedelta(days=30)  # the game, and so its slot, well ahead
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "date": game_day.isoformat(),
                                                     "source": "fixture"})
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    slot = parse_datetime(job.layer_runs.get(layer="L2").output["publish_at"])
    assert job.status == Job.Status.SCHEDULED and job.publish_at == slot
    assert Schedule.objects.get(name=f"deliver {job.pk}").next_run == slot
    assert not job.layer_runs.filter(layer="L7").exists()


def test_l7_webhook_posts_with_an_idempotency_key(shipped, staff_user, upstream, settings, destination):
    upstream.route("POST", "/hooks/media", lambda seen: fake.ok({"received": True}))
    upstream.fail("/hooks/media", "503")
    import base64

    secret = "whsec_" + base64.b64encode(b"a receiver's shared secret!").decode()
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS, "webhook": {"api_key": secret, "base_url": ""}}
    preset = small_reel(shipped)
    destination("webhook", kind="webhook", url=f"{upstream.url}/hooks/media")
    preset.config["providers"]["distribution"] = {"name": "webhook"}
    preset.save()
    job = create(preset)
    services.delivery_start(job_id=job.pk, user=staff_user)  # "deliver now": not at the game's slot
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    posts = upstream.requests_to("/hooks/media")
    assert len(posts) == 2 and posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    # As a receiver verifies it: the Standard Webhooks library, with the secret the operator gave it.
    from standardwebhooks import Webhook, WebhookVerificationError

    received = {name.lower(): value for name, value in posts[1].headers.items()}
    Webhook(secret).verify(posts[1].body.decode(), received)
    assert received["webhook-id"] == f"msg_{job.pk}_v2" == {k.lower(): v for k, v in posts[0].headers.items()}[
        "webhook-id"]
    with pytest.raises(WebhookVerificationError):  # a changed body does not verify
        Webhook(secret).verify(posts[1].body.decode().replace("job_id", "job_ix"), received)
    assert json.loads(posts[1].body)["job_id"] == str(job.pk)


def test_a_permanent_upstream_fault_fails_the_job_naming_layer_provider_field(shipped, upstream, settings):
    fake.serve_goatedbets(upstream, props=lambda: {"props": [{"id": 1, "player": "X", "team": "BUF",
                                                              "market": "m", "label": "L", "over": -110,
                                                              "under": -110}]})
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS,
                                 "goatedbets": {"api_key": "k", "base_url": upstream.url}}
    job = create(shipped["reel_hype"], source="goatedbets", matchup_id=fake.GB_MATCHUP_ID)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.failed_layer == "L1" and job.error_type == "ContractError"
    assert "goatedbets" in job.error_message and "props.0.line" in job.error_message


def test_a_transient_upstream_fault_is_survived(shipped, upstream, settings):
    fake.serve_goatedbets(upstream)
    upstream.fail("/nfl/week/11", "503", "429:1")
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS,
                                 "goatedbets": {"api_key": "k", "base_url": upstream.url}}
    job = create(shipped["reel_hype"], source="goatedbets", matchup_id=fake.GB_MATCHUP_ID)
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message


def test_run_job_commands_for_each_preset(shipped, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    for slug in shipped:
        out = io.StringIO()
        call_command("create_job", "--preset", slug, "--matchup", "nba-20261122-nyk-bos", stdout=out)
        job_id = out.getvalue().strip()
        out = io.StringIO()
        call_command("run_job", job_id, "--through", "L5", stdout=out, stderr=io.StringIO())
        assert "awaiting_review" in out.getvalue()


def _snapshot(frame: np.ndarray, factor: int = 4) -> str:
    """A frame as the page sends it at approval: shrunk by a whole factor (canvas.js snapshot), a PNG data URL."""
    import base64

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(frame).reduce(factor).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def test_the_parity_warning_names_the_moment_and_shows_both_pictures(shipped, staff_user, staff_client):
    """The render is compared with what the reviewer's canvas showed: a moment where the two differ in a way a
    person sees is named as the page names it, with the approved snapshot beside the rendered frame and what to
    do; moments that differ only by the encoder's loss (SSIM below 1) raise nothing."""
    from pipeline.contracts import RenderPlan
    from pipeline.labels import Labels
    from pipeline.render import parity
    from pipeline.render.compositor import Compositor

    job = create(small_reel(shipped))
    plan = RenderPlan.model_validate(job.plan_versions.get(number=1).plan)
    compositor = Compositor(plan, job.work_dir)
    first, last = parity.snapshot_times(plan)[0], parity.snapshot_times(plan)[-1]
    tampered = compositor.frame(last).copy()
    tampered[200:260, 60:300] = (255, 0, 200)  # a block the render will not have: a word the canvas drew wrong
    services.job_approve(job_id=job.pk, user=staff_user, snapshots={
        f"{first:.3f}": _snapshot(compositor.frame(first)), f"{last:.3f}": _snapshot(tampered)})
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    page = staff_client.get(job.get_absolute_url()).content.decode()
    scene = next(s for s in plan.scenes if s.start <= last < s.end)
    at = f"{int(last // 60)}:{last % 60:04.1f}"
    assert "The render differs from what was approved at" in page
    assert f"{at} ({Labels(plan).scene(scene.id)})" in page
    assert f'alt="Approved canvas at {at}"' in page and f'alt="Rendered frame at {at}, the difference outlined"' in page
    first_at = f"{int(first // 60)}:{first % 60:04.1f}"
    assert f'alt="Rendered frame at {first_at}' not in page  # the untouched moment: only the encoder's loss
    differences = job.layer_runs.get(layer="L6", status="done").output["differences"]
    (only,) = differences.values()
    # the box is where the block was, in the snapshot's pixels (a quarter of the frame's)
    x0, y0, x1, y1 = only["box"]
    assert 12 <= x0 <= 17 and 47 <= y0 <= 52 and 73 <= x1 <= 78 and 63 <= y1 <= 68


def test_the_render_progress_moves_with_each_step_after_the_frames(shipped, staff_user):
    """The bar sat at 95 % for a minute while the file was joined, mixed and checked: each step after the frames
    is told by name, and the figure only goes forward."""
    from jobs.models import JobEvent

    job = create(small_reel(shipped))
    services.job_approve(job_id=job.pk, user=staff_user)
    steps = [(e.payload["fraction"], e.payload["message"]) for e in
             JobEvent.objects.filter(job=job, type="layer.progress", payload__layer="L6").order_by("seq")]
    messages = [message for _, message in steps]
    assert messages[0].startswith("drawing frame")
    told = [m for m in messages if not m.startswith("drawing frame")]
    assert told == ["joining the scenes", "mixing in the sound", "checking the file as a player reads it",
                    "comparing with what was approved", "checking the brand colours", "rendered", "finished"]
    fractions = [fraction for fraction, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_pregame_post_for_a_game_under_way_is_approved_only_when_the_reviewer_means_it(shipped, staff_client):
    """The sample's 22 November game kicked off long ago: Approve answers with the question in words (409), the
    batch grid's approval names it per job, and nothing is approved until the reviewer confirms."""
    job = create(small_reel(shipped))
    url = f"/studio/jobs/{job.pk}/approve"
    refused = staff_client.post(url, json.dumps({}), content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["kickoff"].startswith("Buffalo Bills @ Kansas City Chiefs kicked off at ")
    batch = staff_client.post("/studio/batch/action", json.dumps({"action": "approve", "jobs": [str(job.pk)]}),
                              content_type="application/json").json()["results"][str(job.pk)]
    assert batch["ok"] is False and batch["error"].endswith("Open the job to confirm.")
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW and not job.plan_versions.filter(approved_at__isnull=False)
    confirmed = staff_client.post(url, json.dumps({"confirm_kickoff": True}), content_type="application/json")
    assert confirmed.status_code == 200
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
