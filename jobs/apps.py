
from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django.conf import settings
        from django_q.signals import pre_execute

        from jobs import checks  # noqa: F401 - registers the system checks
        from jobs.beat import worker_beat_start
        from jobs.files import brand_folder
        from pipeline import text
        from pipeline.media import ffmpeg

        # A worker's heartbeat starts with the first task it runs (jobs/beat.py).
        pre_execute.connect(worker_beat_start, dispatch_uid="jobs.worker_beat")
        ffmpeg.configure(settings.PIPELINE.get("FFMPEG_BINARY"))
        text.configure(brand_folder() / "fonts")
