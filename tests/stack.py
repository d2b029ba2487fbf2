"""Real processes for the tests that need them: Daphne and django-q2 clusters on the test database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as a URL another process can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(media: Path, logs: Path, **extra) -> dict:
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**inherited, "DJANGO_SETTINGS_MODULE": "mediaengine.settings.browser", "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(media), "LOG_DIR": str(logs), "EXPORT_DIR": str(media / "export"),
            **{key: str(value) for key, value in extra.items()}}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int, timeout_s: float = 30) -> bool:
    """Whether something listens on 127.0.0.1:port within the time (a server just started)."""
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


class Stack:
    """Processes started in their own process groups, stopped together with everything they started."""

    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs, self.processes = env, logs, {}

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = (process, out)
        return process

    def start_cluster(self, name: str = "worker") -> subprocess.Popen:
        return self.start(name, [sys.executable, "manage.py", "workers"])

    def start_web(self, port: int) -> subprocess.Popen:
        return self.start("web", [sys.executable, "-m", "mediaengine.server", "-b", "127.0.0.1", "-p", str(port),
                                  "mediaengine.asgi:application"])

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process, _ in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process, out in self.processes.values():
            # A test stack needs no graceful shutdown: what is left after a few seconds is killed.
            stop_group(process, timeout=5)
            out.close()
        self.processes = {}


def stop_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """Wait until the process and every child it started (qcluster's workers) are gone; kill what lingers."""
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait()


def children(pid: int) -> list[int]:
    """Every descendant of a process (qcluster's sentinel, workers, monitor and pusher)."""
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        listing = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True, timeout=10,
                                 check=False)
        for child in map(int, listing.stdout.split()):
            found.append(child)
            stack.append(child)
    return found
