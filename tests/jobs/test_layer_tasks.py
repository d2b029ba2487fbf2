"""The job machine over test-only layers: ordering, idempotency, failure, the watchdog, caching."""
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import services, tasks
from jobs.models import Asset, Job, LayerRun, Render
from tests.pipelines import WORK_DONE

pytestmark = pytest.mark.django_db(transaction=True)


def make_job(preset, matchup_id="nfl-game-1", **extra):
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": matchup_id, **extra})


def test_job_runs_to_review_and_pauses(tiny_pipeline, preset):
    # when
    job = make_job(preset)
    # then: with django-q2 in sync mode the layers ran one after the other and the job waits
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    assert list(job.layer_runs.values_list("layer", "status")) == [("L1", "done"), ("L2", "done"), ("L3", "done")]
    assert job.layer_runs.get(layer="L3").output["text"] == "L3(L2(L1(nfl)))"
    assert job.plan_versions.get().number == 1
    assert Asset.objects.filter(job=job).count() == 3
    types = list(job.events.values_list("type", flat=True))
    assert types[0] == "job.created" and "plan.ready" in types and "layer.progress" in types
    assert list(job.events.values_list("seq", flat=True)) == list(range(1, len(types) + 1))
    assert not job.layer_runs.filter(layer="L6").exists()


def test_approval_renders_exactly_that_version(tiny_pipeline, preset, staff_user):
    job = make_job(preset)
    # when
    version = services.job_approve(job_id=job.pk, user=staff_user, adjustments={"text_scale": 1.5})
    # then
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert version.number == 2 and version.approved_by == staff_user
    assert version.plan["scenes"][0]["layers"][0]["size"] == 72
    render = Render.objects.get(job=job)
    assert render.plan_version == version and render.status == Render.Status.DONE
    assert render.files[0]["file"] == "L6/still.png"
    assert (job.work_dir / "L6/still.png").is_file()


def test_second_approval_is_refused_and_renders_nothing_more(tiny_pipeline, preset, staff_user):
    job = make_job(preset)
    services.job_approve(job_id=job.pk, user=staff_user)
    with pytest.raises(services.IllegalTransition):
        services.job_approve(job_id=job.pk, user=staff_user)
    assert Render.objects.filter(job=job).count() == 1
    assert WORK_DONE[(str(job.pk), "L6")] == 1


def test_layer_delivered_twice_does_its_work_once(tiny_pipeline, preset):
    job = make_job(preset)
    # when: django-q2 delivers L1 and L2 again (at-least-once delivery)
    tasks.run_layer(str(job.pk), "L1")
    tasks.run_layer(str(job.pk), "L2")
    # then
    assert WORK_DONE[(str(job.pk), "L1")] == 1
    assert WORK_DONE[(str(job.pk), "L2")] == 1
    assert job.layer_runs.filter(layer="L1").count() == 1


def test_a_delivery_while_the_layer_runs_elsewhere_does_nothing(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    LayerRun.objects.create(job=job, layer="L1", input_hash="x" * 64, heartbeat_at=timezone.now())
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    tasks.run_layer(str(job.pk), "L1")
    assert WORK_DONE[(str(job.pk), "L1")] == 0


@pytest.mark.django_db(transaction=False)
def test_next_layer_is_queued_only_after_commit(tiny_pipeline, preset, django_capture_on_commit_callbacks,
                                                monkeypatch):
    sent = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: sent.append(args))
    # when: the job is created inside a transaction that has not committed
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = make_job(preset)
        # then: nothing is queued yet
        assert sent == []
    # and it is queued once the transaction commits
    for callback in callbacks:
        callback()
    assert sent == [(str(job.pk), "L1")]


def test_failing_layer_fails_the_job_and_keeps_earlier_outputs(tiny_pipeline, preset):
    job = make_job(preset, matchup_id="fail-L2")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert (job.failed_layer, job.error_type, job.retryable) == ("L2", "APIError", True)
    assert "503" in job.error_message and "fakeapi" in job.error_message
    l1 = job.layer_runs.get(layer="L1")
    assert l1.status == "done" and l1.output["text"] == "L1(nfl)"
    assert (job.work_dir / "L1/note.txt").is_file()
    failed = job.layer_runs.get(layer="L2")
    assert failed.status == "failed" and "Traceback" in failed.traceback
    assert not job.layer_runs.filter(layer="L3").exists()


def test_a_bug_in_a_layer_fails_the_job_in_words(tiny_pipeline, preset):
    job = make_job(preset, matchup_id="crash-L2")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.failed_layer == "L2"
    assert "RuntimeError: simulated bug" in job.error_message
    assert job.retryable is False


def test_a_non_finite_number_in_a_layer_output_fails_the_job_naming_the_field(tiny_pipeline, preset):
    # when: L2's output carries NaN where its field types cannot refuse it
    job = make_job(preset, matchup_id="nan-L2")
    # then: a contract error naming the field, not a database error and not a job left running
    job.refresh_from_db()
    assert (job.status, job.failed_layer, job.error_type) == (Job.Status.FAILED, "L2", "ContractError")
    assert "figures.spread" in job.error_message


def test_a_result_the_database_refuses_fails_the_job_instead_of_wedging_it(tiny_pipeline, preset):
    """Saving a finished layer (its output, assets, events) can fail after the layer's own work; the job
    must end failed with a message, and the watchdog must not pick it up again."""
    # when: L2 records an asset whose metadata no database stores as JSON (NaN)
    job = make_job(preset, matchup_id="badasset-L2")
    # then
    job.refresh_from_db()
    assert (job.status, job.failed_layer) == (Job.Status.FAILED, "L2")
    assert "saving the result failed" in job.error_message and job.retryable
    run = job.layer_runs.get(layer="L2")
    assert run.status == "failed" and run.error_type == "BookkeepingError" and "Traceback" in run.traceback
    assert not Asset.objects.filter(job=job, layer="L2").exists()  # the refused write was rolled back
    assert services.watchdog_run(stale_after_s=0) == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_each_failed_layer_writes_one_error_record(tiny_pipeline, preset, caplog):
    from pipeline.log_context import JobContextFilter

    caplog.handler.addFilter(JobContextFilter())
    job = make_job(preset, matchup_id="fail-L2")
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    record = errors[0]
    assert (record.job_id, record.layer) == (str(job.pk), "L2")
    assert "APIError" in record.getMessage() and "fakeapi" in record.getMessage() and "503" in record.getMessage()


def test_retry_resumes_at_the_failed_layer(tiny_pipeline, preset, settings):
    job = make_job(preset, matchup_id="fail-L2")
    # the upstream recovers: make the job's inputs healthy again
    Job.objects.filter(pk=job.pk).update(inputs={"sport": "nfl", "matchup_id": "ok"})
    services.job_retry(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    assert WORK_DONE[(str(job.pk), "L1")] == 1  # L1 was not run again


def test_permanent_errors_cannot_be_retried(tiny_pipeline, preset):
    job = make_job(preset, matchup_id="bad-L1")
    job.refresh_from_db()
    assert job.retryable is False
    with pytest.raises(services.InvalidInput, match="cannot be fixed by retrying"):
        services.job_retry(job_id=job.pk)


def test_watchdog_requeues_a_stale_layer(tiny_pipeline, preset):
    # given: L2 was claimed by a worker that then died (its heartbeat is old)
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    tasks.run_layer(str(job.pk), "L1")  # runs L1, then L2 and L3 through the sync queue
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    job2 = services.job_create(preset=preset, inputs={"sport": "nba", "matchup_id": "g2"}, start=False)
    Job.objects.filter(pk=job2.pk).update(status=Job.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    stale = LayerRun.objects.create(job=job2, layer="L1", input_hash="x" * 64,
                                    heartbeat_at=timezone.now() - timedelta(minutes=10))
    # when
    requeued = services.watchdog_run(stale_after_s=60)
    # then: the stale attempt is abandoned and a new one ran to the end
    assert requeued == [(str(job2.pk), "L1")]
    stale.refresh_from_db()
    assert stale.status == LayerRun.Status.ABANDONED
    job2.refresh_from_db()
    assert job2.status == Job.Status.AWAITING_REVIEW
    assert job2.layer_runs.get(layer="L1", status="done").attempt == 2


def test_watchdog_leaves_fresh_layers_alone(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    LayerRun.objects.create(job=job, layer="L1", input_hash="x" * 64, heartbeat_at=timezone.now())
    assert services.watchdog_run(stale_after_s=60) == []


def test_a_layer_that_keeps_losing_its_worker_fails_the_job(tiny_pipeline, preset, settings):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    for attempt in range(1, settings.PIPELINE["LAYER_MAX_ATTEMPTS"] + 1):
        LayerRun.objects.create(job=job, layer="L1", attempt=attempt, input_hash="x" * 64,
                                status=LayerRun.Status.ABANDONED)
    tasks.run_layer(str(job.pk), "L1")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_type == "LayerTimeoutError"
    assert WORK_DONE[(str(job.pk), "L1")] == 0


def test_attempts_that_got_further_each_time_do_not_use_up_the_layer(tiny_pipeline, preset, settings):
    """given: a layer whose worker was lost LAYER_MAX_ATTEMPTS times, each attempt further than the one before
    (as an L6 whose workers are killed keeps the scene chunks each attempt finished)
    then: it runs again; lost attempts that got no further still count (the test above)"""
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    for attempt in range(1, settings.PIPELINE["LAYER_MAX_ATTEMPTS"] + 1):
        LayerRun.objects.create(job=job, layer="L1", attempt=attempt, input_hash="x" * 64, progress=attempt / 10,
                                status=LayerRun.Status.ABANDONED)
    LayerRun.objects.create(job=job, layer="L1", attempt=9, input_hash="x" * 64, progress=0.5,
                            status=LayerRun.Status.ABANDONED)  # no further than attempt 5: lost
    tasks.run_layer(str(job.pk), "L1")
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    assert WORK_DONE[(str(job.pk), "L1")] == 1


def test_same_inputs_reuse_the_cached_output(tiny_pipeline, preset):
    first = make_job(preset)
    # when: a second job with the same inputs and preset
    second = make_job(preset)
    # then: its layers were reused, files copied into its own folder, nothing ran again
    runs = second.layer_runs.order_by("layer")
    assert [run.status for run in runs] == ["reused"] * 3
    assert runs[0].reused_from.job_id == first.pk
    assert (second.work_dir / "L3/note.txt").read_text() == "L3(L2(L1(nfl)))"
    assert WORK_DONE[(str(second.pk), "L1")] == 0
    assert second.events.filter(type="layer.reused").count() == 3
    second.refresh_from_db()
    assert second.status == Job.Status.AWAITING_REVIEW


def test_a_preset_change_reruns_only_the_layers_that_depend_on_it(tiny_pipeline, preset):
    make_job(preset)
    # when: a field only L3 depends on changes
    preset.config = {**preset.config, "segments": {"props": 2}}
    preset.save()
    second = make_job(preset)
    # then
    statuses = dict(second.layer_runs.values_list("layer", "status"))
    assert statuses == {"L1": "reused", "L2": "reused", "L3": "done"}


def test_cancelled_job_runs_no_more_layers(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    services.job_cancel(job_id=job.pk)
    tasks.run_layer(str(job.pk), "L1")
    assert WORK_DONE[(str(job.pk), "L1")] == 0


def test_reject_needs_a_reason(tiny_pipeline, preset, staff_user):
    job = make_job(preset)
    with pytest.raises(services.InvalidInput):
        services.job_reject(job_id=job.pk, user=staff_user, reason="  ")
    services.job_reject(job_id=job.pk, user=staff_user, reason="wrong matchup")
    job.refresh_from_db()
    assert job.status == Job.Status.REJECTED and job.reject_reason == "wrong matchup"


def test_auto_approved_jobs_skip_review(tiny_pipeline, preset):
    job = make_job(preset, auto_approve=True)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    version = job.plan_versions.get()
    assert version.approved_at is not None and "without review" in version.note


def test_batch_jobs_wait_for_review(tiny_pipeline, preset):
    job = make_job(preset, batch=True)
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


def test_watchdog_requeues_a_job_whose_task_was_lost(tiny_pipeline, preset, monkeypatch):
    # given: L1 finished, then the worker that took L2's task died before claiming it
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    sent = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: sent.append(args))
    tasks.run_layer(str(job.pk), "L1")
    assert sent == [("jobs.tasks.run_layer", str(job.pk), "L2")]  # queued, but never run
    job.events.update(created_at=timezone.now() - timedelta(minutes=10))
    monkeypatch.undo()
    # when
    requeued = services.watchdog_run(stale_after_s=60)
    # then
    assert requeued == [(str(job.pk), "L2")]
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    assert job.events.filter(type="job.requeued").count() == 1


def test_a_live_layer_beats_inside_a_short_stale_window(tiny_pipeline, preset, settings):
    """given: an operator who set HEARTBEAT_STALE_S to 1.5 s (lost workers noticed sooner) and a layer that
    works for three times that long without reporting progress
    when: the watchdog runs with the shipped threshold during that work
    then: the live attempt is never given up (it beats inside the window), and it is still running after"""
    import time as clock

    from jobs.services.runner.executing import Heartbeat

    settings.PIPELINE = {**settings.PIPELINE, "HEARTBEAT_STALE_S": 1.5}
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    run = LayerRun.objects.create(job=job, layer="L1", input_hash="x" * 64, heartbeat_at=timezone.now())
    with Heartbeat(run.pk, job.pk, "L1"):
        deadline = clock.monotonic() + 4.5
        while clock.monotonic() < deadline:
            assert services.watchdog_run() == []
            clock.sleep(0.2)
    run.refresh_from_db()
    assert run.status == LayerRun.Status.RUNNING
