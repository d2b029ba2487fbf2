import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.database import require_database


class Command(BaseCommand):
    help = "Run the ASGI server (Daphne: HTTP and WebSockets) and a django-q2 worker cluster together."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="only the web server")

    def handle(self, *args, host: str, port: int, no_worker: bool, **options) -> None:
        require_database()
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {"web": [sys.executable, "-m", "mediaengine.server", "-b", host, "-p", str(port),
                            "mediaengine.asgi:application"]}
        if not no_worker:
            commands["worker"] = [sys.executable, manage, "workers"]
        children = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(
            f"Media Engine is at http://{host}:{port}/studio/ (admin: http://{host}:{port}/admin/); "
            f"running: {', '.join(children)}. Ctrl-C stops it."))

        def stop(*_):
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
        finally:
            stop()
            for child in children.values():
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=30)
        failed = {name: child.returncode for name, child in children.items() if child.returncode not in (0, -15)}
        if failed:
            raise CommandError(f"stopped because a process exited: {failed}")
