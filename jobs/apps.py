
from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django.conf import settings

        from jobs import checks  # noqa: F401 - registers the system checks
        from jobs.files import brand_folder
        from pipeline import text
        from pipeline.media import ffmpeg

        ffmpeg.configure(settings.PIPELINE.get("FFMPEG_BINARY"))
        text.configure(brand_folder() / "fonts")
