"""The job socket: staff only, same-origin only, catch-up from a sequence number, then live events."""
import json
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client

from jobs import services
from mediaengine import env
from mediaengine.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = settings.BASE_DIR


@pytest.fixture
def job(tiny_pipeline, preset):
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "nfl-1"})


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def communicator(path, user=None, origin=b"http://localhost"):
    """Build it outside the event loop: logging the user in uses the ORM."""
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", cookie_for(user)))
    return WebsocketCommunicator(application, path, headers=headers)


def connect(path, user=None, origin=b"http://localhost"):
    socket = communicator(path, user, origin)

    async def run():
        connected, code = await socket.connect(timeout=3)
        await socket.disconnect()
        return connected, code

    return async_to_sync(run)()


@pytest.mark.parametrize("who", ["anonymous", "plain"])
def test_the_socket_turns_away_non_staff(job, plain_user, who):
    connected, code = connect(f"/ws/jobs/{job.pk}/", plain_user if who == "plain" else None)
    assert not connected or code == 4403


def test_the_socket_refuses_a_foreign_origin(job, staff_user):
    connected, _ = connect(f"/ws/jobs/{job.pk}/", staff_user, origin=b"http://evil.example")
    assert not connected


def test_the_studio_socket_is_staff_only(plain_user):
    connected, code = connect("/ws/studio/", plain_user)
    assert not connected or code == 4403


def record_from_another_process(job_id) -> None:
    """Record an event the way a worker process does (its own process, its own connection)."""
    db = connection.settings_dict
    url = f"sqlite:///{db['NAME']}" if db["ENGINE"].endswith("sqlite3") else (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    code = ("import django; django.setup(); from jobs.services import event_record; "
            f"event_record(job_id='{job_id}', type='layer.progress', payload={{'layer': 'L6', 'fraction': 0.5}})")
    env = {**__import__("os").environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "mediaengine.settings.test"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


async def next_event(socket, timeout: float) -> dict:
    """The next job event (or error) the socket sends, past the presence messages it sends beside them."""
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        if message["type"] != "presence":
            return message


def test_catch_up_then_live_events_from_a_worker_process(job, staff_user):
    socket = communicator(f"/ws/jobs/{job.pk}/", staff_user)

    async def run():
        connected, _ = await socket.connect(timeout=3)
        assert connected
        await socket.send_json_to({"since": 3})
        caught_up = []
        while len(caught_up) < job.last_event_seq - 3:
            caught_up.append(await next_event(socket, timeout=3))
        assert [e["seq"] for e in caught_up] == list(range(4, job.last_event_seq + 1))
        from asgiref.sync import sync_to_async

        sent = time.monotonic()
        await sync_to_async(record_from_another_process)(job.pk)
        recorded = time.monotonic()
        live = await next_event(socket, timeout=5)
        arrived = time.monotonic()
        await socket.disconnect()
        return live, arrived - recorded, recorded - sent

    job.refresh_from_db()
    live, latency, _ = async_to_sync(run)()
    assert live["seq"] == job.last_event_seq + 1 and live["type"] == "layer.progress"
    assert latency < 0.5


def test_a_bad_since_is_answered_in_words(job, staff_user):
    socket = communicator(f"/ws/jobs/{job.pk}/", staff_user)

    async def run():
        await socket.connect(timeout=3)
        await socket.send_to(text_data=json.dumps({"since": "lots"}))
        answer = await next_event(socket, timeout=3)
        await socket.disconnect()
        return answer

    assert async_to_sync(run)() == {"type": "error", "message": "since must be a whole number >= 0"}


def test_presence_ends_with_the_consumer_even_when_it_never_says_goodbye(job, staff_user):
    """given: a reviewer's socket on the job
    when: its handler is killed before disconnect() runs (as Daphne does to a handler still busy 10 s after the
    close, or as a crash does)
    then: the task keeping the viewer's row fresh ends with it, the row is not shown once stale, and the
    watchdog's expiry deletes it"""
    import asyncio
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import Viewer
    from jobs.services import collaboration

    socket = communicator(f"/ws/jobs/{job.pk}/", staff_user)

    async def run():
        connected, _ = await socket.connect(timeout=3)
        assert connected
        await socket.send_json_to({"since": 0})
        await socket.receive_json_from(timeout=3)
        socket.future.cancel()  # killed: no websocket.disconnect, no disconnect()
        await asyncio.sleep(0.2)
        return [t for t in asyncio.all_tasks() if "_stay_present" in repr(t.get_coro()) and not t.done()]

    assert async_to_sync(run)() == []
    assert collaboration.viewers_of([job.pk]) == {str(job.pk): [staff_user.username]}
    Viewer.objects.update(seen_at=timezone.now() - collaboration.VIEWER_STALE - timedelta(seconds=1))
    assert collaboration.viewers_of([job.pk]) == {}
    assert collaboration.viewers_expire() == 1 and not Viewer.objects.exists()


@pytest.mark.skipif(not env.REDIS_URL, reason="the Redis channel layer: CI's PostgreSQL + Redis pass")
def test_a_quiet_socket_on_the_redis_layer_stays_open(job, staff_user, tmp_path):
    """given: the real server on the Redis channel layer and a job socket nobody writes to for 40 s (longer than
    redis-py's 5 s read timeout against channels-redis's 5 s wait, which closed sockets every ~36 s)
    then: the socket is still open and a save made then arrives on it"""
    import asyncio

    import websockets

    from tests.stack import Stack, accepts, free_port, server_env

    port = free_port()
    stack = Stack(server_env(tmp_path / "media", tmp_path, REDIS_URL=env.REDIS_URL), tmp_path)
    job.refresh_from_db()
    stack.start_web(port)
    try:
        assert accepts(port), stack.log("web")[-2000:]
        cookie = cookie_for(staff_user).decode()

        async def run():
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/jobs/{job.pk}/", origin="http://127.0.0.1",
                                          additional_headers={"Cookie": cookie}) as ws:
                await ws.send(json.dumps({"since": job.last_event_seq}))
                await asyncio.sleep(40)
                await asyncio.to_thread(services.comment_add, job_id=job.pk, user=staff_user, at_s=0.5,
                                        text="still here?")
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if message.get("type") == "comment.added":
                        return message

        assert async_to_sync(run)()["payload"]["text"] == "still here?"
    finally:
        stack.stop()
