"""`manage.py bench desk`: the desk under load, as the review page behaves, against the production setup.

It starts the web server (mediaengine.server, Daphne) and one django-q2 cluster with
`mediaengine.settings.production` on this machine's PostgreSQL and Redis, puts `--jobs` reels in review, and has
`--reviewers` reviewers work on them for `--seconds`: each keeps the job's socket open, loads the plan, changes a
field of the shared draft every few seconds (text size, a wording, a colour) the way desk.js saves it (only the
changed field, with the draft number the page has, adopting the merged draft the answer carries and the newer
ones the socket brings), asks for the adjusted preview and the suggestions around each change, and now and then
pins a comment. At the end one reviewer per job approves at the draft the page shows.

Everything talks to 127.0.0.1 only, and the run is bounded by --seconds (plus set-up and a 75 s settle). It
prints: saves accepted and refused, 5xx answers, lost saves (accepted but missing from the draft, or a draft
missing from the approved plan), socket closes nobody asked for, handshake p50/p95, push latency p50/p95 (a
save sent -> the draft.saved event on another reviewer's page), and the web server's memory before, right after,
and 75 s after the load. The jobs it made are cancelled at the end.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import CommandError

from jobs import services
from jobs.models import DraftRevision, Job
from mediaengine import env
from pipeline.contracts import RenderPlan


@dataclass
class Tally:
    accepted: list = field(default_factory=list)   # (job, number, field, value, sent_at)
    refused: int = 0
    server_errors: int = 0
    unasked_closes: int = 0
    handshakes: list = field(default_factory=list)
    arrivals: dict = field(default_factory=dict)   # (job, number) -> [(reviewer, at)]
    requests: int = 0
    failures: list = field(default_factory=list)


SETTLE_S = 75  # idle long enough for the web server's 30 s idle check and its next trim


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 3)


def _rss_mb(pid: int) -> float:
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return round(total, 1)


def _children(pid: int) -> list[int]:
    listing = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False, timeout=10)
    return [int(p) for p in listing.stdout.split()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _check_production_setup() -> None:
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise CommandError("bench desk runs the production setup: set DATABASE_URL to PostgreSQL "
                           "(postgres://postgres@127.0.0.1:5432/test on this machine)")
    if not env.REDIS_URL:
        raise CommandError("bench desk runs the production setup: set REDIS_URL (redis://127.0.0.1:6379/0)")


class Servers:
    """Daphne and a qcluster with the production settings, stopped with everything they started."""

    def __init__(self, port: int, logs: Path) -> None:
        self.port, self.logs = port, logs
        url = settings.DATABASES["default"]
        database = f"postgres://{url['USER']}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}/{url['NAME']}"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mediaengine.settings.production",
                    "SECRET_KEY": settings.SECRET_KEY, "DATABASE_URL": database, "REDIS_URL": env.REDIS_URL,
                    "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "False",
                    "METRICS_TOKEN": secrets.token_urlsafe(24), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                    "LOG_DIR": str(logs), "EXPORT_DIR": str(settings.PIPELINE["EXPORT_DIR"])}
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        manage = str(settings.BASE_DIR / "manage.py")
        for name, command in (("web", [sys.executable, "-m", "mediaengine.server", "-b", "127.0.0.1", "-p",
                                       str(self.port), "mediaengine.asgi:application"]),
                              ("worker", [sys.executable, manage, "workers"])):
            out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self.processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code in (200, 503):
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise CommandError(f"the web server did not start: see {self.logs / 'web.log'}")

    def stop(self) -> None:
        import signal

        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes.values():
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def _page_cookie(user) -> tuple[str, str]:
    """A logged-in session (as the login page makes one) and a CSRF token, as the review page holds them."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    token = secrets.token_hex(16)
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={token}", token


def _edits_for(plan: RenderPlan) -> list[tuple[str, list]]:
    """Fields a reviewer changes, with values the design guard takes: the text size, shorter wordings (numbers
    kept: the last word dropped), and palette colours."""
    fields: list[tuple[str, list]] = [("text_scale", [0.9, 0.95, 1.0, 1.05, 1.1])]
    for scene in plan.scenes:
        for layer in scene.layers:
            text = getattr(layer, "text", "")
            if getattr(layer, "editable", False) and len(text.split()) > 2:
                fields.append((f"text_edits.{layer.id}", [" ".join(text.split()[:-1]), text]))
    return fields


class Reviewer:
    def __init__(self, bench: DeskBench, index: int, job: Job, user, fields) -> None:
        self.bench, self.index, self.job, self.user, self.fields = bench, index, job, user, fields
        self.cookie, self.token = _page_cookie(user)
        self.seen = 0
        self.since = job.last_event_seq
        self.closing = False

    def _request(self, path: str, body: dict | None) -> tuple[int, dict]:
        self.bench.tally.requests += 1
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.token, "Origin": self.bench.base,
                   "Referer": self.bench.base + "/"}
        url = f"{self.bench.base}/studio/jobs/{self.job.pk}/{path}"
        try:
            response = (self.bench.http.get(url, headers=headers, timeout=60) if body is None
                        else self.bench.http.post(url, json=body, headers=headers, timeout=60))
        except requests.RequestException as exc:
            self.bench.tally.failures.append(f"{path}: {exc}")
            return 0, {}
        if response.status_code >= 500:
            self.bench.tally.server_errors += 1
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {}

    async def call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        """POST `body` (GET when None) to one of the job's endpoints, from the pool of the pages' threads."""
        return await asyncio.get_running_loop().run_in_executor(self.bench.pool, self._request, path, body)

    async def listen(self) -> None:
        import websockets

        url = f"ws://127.0.0.1:{self.bench.port}/ws/jobs/{self.job.pk}/"
        while not self.closing:
            started = time.monotonic()
            try:
                async with websockets.connect(url, origin=self.bench.base, open_timeout=60,
                                              additional_headers={"Cookie": self.cookie}) as ws:
                    self.bench.tally.handshakes.append(time.monotonic() - started)
                    await ws.send(json.dumps({"since": self.since}))
                    async for raw in ws:
                        event = json.loads(raw)
                        if isinstance(event.get("seq"), int):
                            self.since = max(self.since, event["seq"])
                        if event.get("type") == "draft.saved":
                            number = event["payload"]["number"]
                            self.bench.tally.arrivals.setdefault((str(self.job.pk), number), []).append(
                                (self.index, time.monotonic()))
                            self.seen = max(self.seen, number)
                    if not self.closing:
                        self.bench.tally.unasked_closes += 1
            except websockets.ConnectionClosed:
                if not self.closing:
                    self.bench.tally.unasked_closes += 1
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                self.bench.tally.failures.append(f"socket: {exc}")
                await asyncio.sleep(1)

    async def work(self, until: float) -> None:
        chooser = random.Random(self.index)
        status, payload = await self.call("plan")  # the page loads the plan and the draft
        if status == 200:
            self.seen = max(self.seen, payload["draft"]["number"])
        while time.monotonic() < until:
            await asyncio.sleep(chooser.uniform(2, 5))
            name, values = chooser.choice(self.fields)
            value = chooser.choice(values)
            sent = time.monotonic()
            status, answer = await self.call("draft", {"changes": {name: value}, "seen": self.seen})
            if status == 200:
                number = answer["draft"]["number"]
                self.bench.tally.accepted.append((str(self.job.pk), number, name, value, sent))
                self.seen = max(self.seen, number)
            else:
                self.bench.tally.refused += 1
            # Around each change the page asks for the adjusted preview and the suggestions.
            if chooser.random() < 0.6:
                await self.call("plan", {"adjustments": answer.get("draft", {}).get("adjustments", {})
                                         if status == 200 else {}})
            if chooser.random() < 0.3:
                await self.call("suggestions", {"adjustments": {}})
            if chooser.random() < 0.1:
                await self.call("comments", {"at_s": 1.0, "layer": "", "text": f"look at this ({self.index})"})


class DeskBench:
    def __init__(self, reviewers: int, jobs: int, seconds: float) -> None:
        self.reviewers, self.job_count, self.seconds = reviewers, jobs, seconds
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tally = Tally()
        self.http = requests.Session()
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=reviewers * 2))
        self.pool = ThreadPoolExecutor(max_workers=reviewers * 2, thread_name_prefix="reviewer")

    def run(self, to_review) -> dict:
        _check_production_setup()
        logs = Path(tempfile.mkdtemp(prefix="bench-desk-"))
        jobs = [to_review(500 + index) for index in range(self.job_count)]
        from django.contrib.auth.models import Group

        from core.access import desk_groups_ensure

        desk_groups_ensure()
        users = [get_user_model().objects.get_or_create(username=f"bench-reviewer-{i}", defaults={"is_staff": True})[0]
                 for i in range(self.reviewers)]
        for user in users:
            user.groups.add(Group.objects.get(name="reviewer"))
        servers = Servers(self.port, logs)
        servers.start()
        try:
            return self._load(jobs, users, servers)
        finally:
            servers.stop()
            for job in jobs:
                try:
                    services.job_cancel(job_id=job.pk)
                except services.IllegalTransition:
                    pass  # already finished, or ended another way: nothing to stop

    def _load(self, jobs, users, servers) -> dict:
        web = servers.processes["web"].pid
        fields = {job.pk: _edits_for(RenderPlan.model_validate(job.plan_versions.order_by("number").first().plan))
                  for job in jobs}
        reviewers = [Reviewer(self, i, jobs[i % len(jobs)], user, fields[jobs[i % len(jobs)].pk])
                     for i, user in enumerate(users)]
        memory_before = _rss_mb(web)

        async def load() -> None:
            until = time.monotonic() + self.seconds
            listeners = [asyncio.create_task(r.listen()) for r in reviewers]
            await asyncio.gather(*(r.work(until) for r in reviewers))
            await asyncio.sleep(3)  # the last pushes arrive
            for job in jobs:
                await self._approve(next(r for r in reviewers if r.job.pk == job.pk))
            for reviewer in reviewers:
                reviewer.closing = True
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)

        asyncio.run(load())
        memory_after = _rss_mb(web)
        time.sleep(SETTLE_S)  # the server gives memory back once idle (mediaengine/server.py)
        memory_settled = _rss_mb(web)
        return self._figures(jobs, reviewers, memory_before, memory_after, memory_settled)

    async def _approve(self, reviewer: Reviewer) -> None:
        for _ in range(5):
            status, answer = await reviewer.call("approve", {"draft": reviewer.seen, "snapshots": {}})
            if status == 200:
                return
            moved = answer.get("draft_moved")
            if status == 409 and moved:
                reviewer.seen = moved["number"]
                continue
            self.tally.failures.append(f"approve {reviewer.job.pk}: {status} {answer}")
            return

    def _figures(self, jobs, reviewers, memory_before, memory_after, memory_settled) -> dict:
        lost = 0
        latest: dict[tuple[str, str], int] = {}
        for job_id, number, name, _value, _sent in self.tally.accepted:
            latest[(job_id, name)] = max(latest.get((job_id, name), 0), number)
        for job in jobs:
            draft = DraftRevision.objects.filter(job=job).order_by("-number").first()
            final = draft.adjustments if draft else {}
            for job_id, number, name, value, _sent in self.tally.accepted:
                if job_id == str(job.pk) and latest[(job_id, name)] == number:
                    head, _, key = name.partition(".")
                    held = final.get(head, {}).get(key) if key else final.get(head)
                    lost += held != value
            approved = job.plan_versions.filter(approved_at__isnull=False).order_by("-number").first()
            if approved is not None and draft is not None and approved.adjustments != draft.adjustments:
                lost += 1
                self.tally.failures.append(f"job {job.pk}: the approved plan is not the draft")
        pushes = []
        for job_id, number, _name, _value, sent in self.tally.accepted:
            on_job = {r.index for r in reviewers if str(r.job.pk) == job_id}
            for index, at in self.tally.arrivals.get((job_id, number), []):
                if index in on_job:
                    pushes.append(at - sent)
        return {
            "reviewers": self.reviewers, "jobs": self.job_count, "seconds": self.seconds,
            "saves_accepted": len(self.tally.accepted), "saves_refused": self.tally.refused,
            "requests": self.tally.requests, "http_5xx": self.tally.server_errors, "lost_saves": lost,
            "unasked_socket_closes": self.tally.unasked_closes, "handshakes": len(self.tally.handshakes),
            "handshake_p50_s": _percentile(self.tally.handshakes, 50),
            "handshake_p95_s": _percentile(self.tally.handshakes, 95),
            "push_p50_s": _percentile(pushes, 50), "push_p95_s": _percentile(pushes, 95),
            "web_memory_mb": {"before": memory_before, "after": memory_after,
                              f"{SETTLE_S}s_after": memory_settled},
            "failures": self.tally.failures[:10],
        }


def run(*, reviewers: int, jobs: int, seconds: float, to_review) -> dict:
    return DeskBench(reviewers, jobs, seconds).run(to_review)
