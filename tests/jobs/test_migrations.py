"""Data migrations fill in what existing rows need."""
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture(autouse=True)
def back_to_the_latest():
    """Each test leaves the database at the newest migrations, whatever it went back to (the tests after it need
    every column)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_renders_from_before_analytics_ids_get_theirs(preset):
    """given a render from before 0010, when 0010 runs, it gets the analytics id L7 puts on its post."""
    from pipeline.contracts.l7 import analytics_id

    apps = migrate(("jobs", "0009_desk_together"))
    Job, PlanVersion, Render = (apps.get_model("jobs", name) for name in ("Job", "PlanVersion", "Render"))
    job = Job.objects.create(preset_id=preset.pk, inputs={}, status="done")
    render = Render.objects.create(job=job, status="done",
                                   plan_version=PlanVersion.objects.create(job=job, number=2, plan={}))
    apps = migrate(("jobs", "0010_engagement"))
    assert apps.get_model("jobs", "Render").objects.get(pk=render.pk).analytics_id == analytics_id(job.pk, 2)


def test_desk_figures_are_filled_in_for_jobs_made_before_them(preset, staff_user):
    """given: jobs from before 0007 (approved as built, adjusted, skipped, auto, rejected, a variant passed
    over) with their plan versions and a render
    when: 0007 runs
    then: each gets the outcome, preview and waiting seconds the old Python metrics computed, and the render its
    duration"""
    apps = migrate(("jobs", "0006_render_ahead"))
    Job, PlanVersion, Render = (apps.get_model("jobs", name) for name in ("Job", "PlanVersion", "Render"))
    now = timezone.now()

    def job(status="done", **fields):
        made = Job.objects.create(preset_id=preset.pk, inputs={}, status=status, **fields)
        Job.objects.filter(pk=made.pk).update(created_at=now - timedelta(seconds=100))
        return made

    def approved(made, **fields):
        return PlanVersion.objects.create(job=made, number=2, plan={}, approved_at=now, **fields)

    built = job(review_ready_at=now - timedelta(seconds=90))
    version = approved(built, approved_by_id=staff_user.pk, adjustments={}, note="approved as built")
    Render.objects.create(job=built, plan_version=version, status="done", finished_at=now + timedelta(seconds=30))
    adjusted = job(review_ready_at=now - timedelta(seconds=90))
    approved(adjusted, approved_by_id=staff_user.pk, adjustments={"text_scale": 1.2})
    skipped = job(review_ready_at=now - timedelta(seconds=90))
    approved(skipped, approved_by_id=staff_user.pk, adjustments={}, note="preview skipped")
    auto = job(review_ready_at=now - timedelta(seconds=90))
    approved(auto, adjustments={})
    rejected = job("rejected", review_ready_at=now - timedelta(seconds=90), reject_reason="off brand")
    lost = job("rejected", variant_group=rejected.pk, reject_reason="variant 2 was approved instead")

    apps = migrate(("jobs", "0007_desk_figures"))
    Job, Render = apps.get_model("jobs", "Job"), apps.get_model("jobs", "Render")
    outcomes = dict(Job.objects.values_list("pk", "review_outcome"))
    assert [outcomes[j.pk] for j in (built, adjusted, skipped, auto, rejected, lost)] == [
        "approved", "adjusted", "skipped", "auto", "rejected", ""]
    filled = Job.objects.get(pk=built.pk)
    assert round(filled.preview_s) == 10 and round(filled.review_wait_s) == 90
    assert Job.objects.get(pk=auto.pk).review_wait_s is None
    assert round(Render.objects.get(job_id=built.pk).duration_s) >= 29


def test_jobs_from_before_the_titled_list_get_their_game_from_l1(preset):
    """given jobs from before 0013, one whose L1 read a game and one whose L1 output is unreadable, when 0013 runs,
    the first is titled, dated and searchable by its teams and players, the second keeps an empty title."""
    from pipeline.layers.l1_data.fixture import FixtureData

    apps = migrate(("jobs", "0012_worker_beat"))
    Job, LayerRun = apps.get_model("jobs", "Job"), apps.get_model("jobs", "LayerRun")
    matchup = FixtureData(options={}, ctx=None).matchup("nfl-20261122-buf-kc")
    read = Job.objects.create(preset_id=preset.pk, inputs={}, status="done")
    LayerRun.objects.create(job=read, layer="L1", status="done", output={"matchup": matchup.model_dump(mode="json")})
    odd = Job.objects.create(preset_id=preset.pk, inputs={}, status="failed")
    LayerRun.objects.create(job=odd, layer="L1", status="done", output={"matchup": {"away": "?"}})
    apps = migrate(("jobs", "0013_studio_list"))
    Job = apps.get_model("jobs", "Job")
    titled = Job.objects.get(pk=read.pk)
    assert titled.title == "Buffalo Bills @ Kansas City Chiefs" and str(titled.game_day) == "2026-11-22"
    assert "BUF" in titled.keywords and "Patrick Mahomes" in titled.keywords
    assert Job.objects.get(pk=odd.pk).title == ""


def test_the_models_and_their_migrations_agree():
    """Every model change has its migration (a choice's label changed once without one, and `migrate` on a new
    machine then said nothing was wrong while `makemigrations` wanted a migration)."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 when a migration is missing
    assert "No changes detected" in out.getvalue()
