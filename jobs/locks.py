"""Named row locks, so every writer takes them the same way (and in the same order: job first)."""
from jobs.models import Job, LayerRun


def job_for_update(job_id) -> Job | None:
    """Lock the job row for the rest of the transaction. None when the job is gone."""
    return Job.objects.select_for_update().select_related("preset").filter(pk=job_id).first()


def layer_run_for_update(run_id) -> LayerRun | None:
    return LayerRun.objects.select_for_update().filter(pk=run_id).first()
