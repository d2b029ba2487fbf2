"""Operators' commands: create_job, run_job, watchdog, setup."""
import io

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job
from tests.pipelines import WORK_DONE

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


@pytest.fixture
def no_queue(monkeypatch):
    """create_job queues L1 for the worker cluster; these tests run it with run_job instead."""
    sent = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: sent.append(args))
    return sent


def test_create_job_prints_the_id_and_queues_l1(tiny_pipeline, preset, no_queue):
    job_id = run("create_job", "--preset", preset.slug, "--matchup", "nfl-2026-11-22-buf-kc")
    job = Job.objects.get(pk=job_id)
    assert job.inputs["sport"] == "nfl" and job.inputs["matchup_id"] == "nfl-2026-11-22-buf-kc"
    assert no_queue == [("jobs.tasks.run_layer", job_id, "L1")]


def test_create_job_names_unknown_presets(db):
    with pytest.raises(CommandError, match="no preset 'nope'"):
        run("create_job", "--preset", "nope")


def test_create_job_reports_bad_inputs(preset):
    with pytest.raises(CommandError, match="sport"):
        run("create_job", "--preset", preset.slug, "--sport", "curling", "--matchup", "x")


def test_run_job_runs_in_process_to_review(tiny_pipeline, preset, no_queue):
    job_id = run("create_job", "--preset", preset.slug, "--matchup", "nfl-1")
    output = run("run_job", job_id)
    assert "awaiting_review" in output
    assert WORK_DONE[(job_id, "L1")] == 1


def test_run_job_through_the_end_approves_and_renders(tiny_pipeline, preset, no_queue):
    job_id = run("create_job", "--preset", preset.slug, "--matchup", "nfl-1")
    output = run("run_job", job_id, "--through", "L7")
    assert "approved as built" in output and f"job {job_id} is done" in output


def test_run_job_fails_with_the_error(tiny_pipeline, preset, no_queue):
    job_id = run("create_job", "--preset", preset.slug, "--sport", "nfl", "--matchup", "fail-L2")
    with pytest.raises(CommandError, match=r"L2 failed \(APIError\).*503"):
        run("run_job", job_id)


def test_setup_is_repeatable_and_schedules_the_watchdog(db, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    first = run("setup")
    second = run("setup")
    assert "Log in as 'admin'" in first and first == second
    from django_q.models import Schedule

    assert Schedule.objects.get(func="jobs.tasks.watchdog").minutes == 1


def test_plan_calendar_creates_a_batch_job_per_matchup_once(preset, no_queue):
    from presets.models import Preset

    reel = Preset.objects.create(slug="cal-reel", name="Calendar reel", kind="reel",
                                 config={"format": {"kind": "reel", "width": 1080, "height": 1920}})
    first = run("plan_calendar", "--from", "2026-11-22", "--to", "2026-11-23", "--preset", reel.slug,
                "--sport", "nba").split()
    assert len(first) == 10  # five NBA games a day, two days
    jobs = Job.objects.filter(pk__in=first)
    assert all(job.inputs["batch"] for job in jobs)
    assert run("plan_calendar", "--from", "2026-11-22", "--to", "2026-11-23", "--preset", reel.slug,
               "--sport", "nba") == ""


def test_plan_calendar_refuses_a_backwards_range(preset):
    with pytest.raises(CommandError, match="ends before"):
        run("plan_calendar", "--from", "2026-11-23", "--to", "2026-11-22", "--preset", preset.slug)


@pytest.mark.parametrize("command", [["bench", "preview"], ["create_job", "--preset", "reel_hype"], ["watchdog"],
                                     ["import_engagement", "figures.csv"]])
def test_a_command_on_a_database_never_set_up_says_what_to_run(tmp_path, command):
    """given a fresh checkout's empty database, when an operator runs a command, it says to run setup (no raw
    `no such table`)."""
    import subprocess
    import sys

    from django.conf import settings

    env = {**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "mediaengine.settings.dev"}
    result = subprocess.run([sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "is not set up" in result.stderr and "manage.py setup" in result.stderr
    assert "no such table" not in result.stderr and "Traceback" not in result.stderr
