from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands import qcluster

from core.database import require_database
from jobs import shutdown


class StoppingCluster(Cluster):
    """django-q2's cluster, telling its tasks it is stopping before it waits for them (jobs/shutdown.py)."""

    def sig_handler(self, signum, frame):
        shutdown.mark_stopping()
        super().sig_handler(signum, frame)


class Command(qcluster.Command):
    help = ("Start a django-q2 worker cluster (as `qcluster` does) whose render-ahead tasks give way within half a "
            "second when it is told to stop (SIGTERM or Ctrl-C), so it stops in seconds.")

    def handle(self, *args, **options):
        require_database()
        marker = shutdown.prepare(settings.BASE_DIR / "var" / "run")
        try:
            cluster = StoppingCluster()
            cluster.start()
            if options.get("run_once", False):
                cluster.stop()
        finally:
            marker.unlink(missing_ok=True)
