"""The job's live status socket: `/ws/jobs/<uuid>/`, staff only.

The page sends `{"since": N}` (the last event number it has) and receives every
event after it, in order, then new ones as they are recorded. Events pushed
through the channel layer arrive at once; where the layer does not cross
processes (the embedded in-memory default) the consumer also reads new rows,
so events recorded by worker processes still arrive.

Presence: each open job socket is a `Viewer` row (jobs.services.collaboration); joining and leaving push
who is on the job to the job's group (the page's "also here") and the studio's (the batch grid's marks). A row
is kept fresh by a task that lives exactly as long as the consumer (cancelled however the consumer ends:
closed, crashed, or killed by Daphne), and rows nobody refreshes are not shown and are deleted by time.

Database work runs in the thread pool, not on asgiref's one thread-sensitive thread: a desk's sockets (and
their handshakes) must not queue behind each other and behind every other synchronous call of the process.
"""
from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async as _database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError

from jobs.models import Job, JobEvent
from jobs.services import collaboration
from jobs.services.events import STUDIO_GROUP, STUDIO_TYPES, job_group, studio_message

logger = logging.getLogger("jobs")

ROW_POLL_S = 0.2
# What leaving does when Redis or the database is out of reach for a moment: it is logged, and the rest still
# runs (the viewer's row is deleted, or expires by time).
TRANSIENT = (OSError, ConnectionError, TimeoutError, DatabaseError)


def database_sync_to_async(func):
    """Channels' wrapper, in the thread pool (each call closes the connections it used)."""
    return _database_sync_to_async(func, thread_sensitive=False)
FORBIDDEN = 4403
NOT_FOUND = 4404


def _may_watch(user) -> bool:
    """The sockets follow the studio's rule for reading jobs (previews.access): staff who may view jobs."""
    from core.access import VIEW_JOBS, can

    return can(user, VIEW_JOBS)


@database_sync_to_async
def _open_job(user, job_id, channel_name) -> tuple[int, list[str]]:
    """Everything the handshake asks the database, in one call: may this user watch, is there such a job, and
    the viewer's row (who has it open now). (FORBIDDEN or NOT_FOUND, []) when the socket is refused."""
    if not _may_watch(user):
        return FORBIDDEN, []
    if not Job.objects.filter(pk=job_id).exists():
        return NOT_FOUND, []
    return 0, collaboration.viewer_join(job_id=job_id, user=user, channel_name=channel_name)


class LifetimeTasks:
    """Background tasks that end with the consumer, however it ends: asked to close, crashed in a handler, or
    cancelled by Daphne (which kills a handler still busy 10 s after the close, before disconnect() runs)."""

    async def __call__(self, scope, receive, send):
        self._tasks: list[asyncio.Task] = []
        try:
            await super().__call__(scope, receive, send)
        finally:
            for task in self._tasks:
                task.cancel()

    def keep(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.append(task)
        return task


class JobConsumer(LifetimeTasks, AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.job_id = self.scope["url_route"]["kwargs"]["job_id"]
        refused, viewers = await _open_job(self.scope.get("user"), self.job_id, self.channel_name)
        if refused:
            await self.close(code=refused)
            return
        self.group = job_group(self.job_id)
        self.last_sent: int | None = None
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task | None = None
        self._present = True
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.keep(self._stay_present())
        await self._push_presence(viewers)

    async def disconnect(self, code: int) -> None:
        for task in self._tasks:
            task.cancel()
        if getattr(self, "group", None):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except TRANSIENT as exc:
                logger.warning("job socket %s could not leave its group: %s", self.channel_name, exc)
        if getattr(self, "_present", False):
            self._present = False
            try:
                viewers = await database_sync_to_async(collaboration.viewer_leave)(
                    job_id=self.job_id, channel_name=self.channel_name)
                await self._push_presence(viewers)
            except TRANSIENT as exc:
                # The row stops being refreshed with this consumer, so it is not shown after VIEWER_STALE and
                # the watchdog deletes it.
                logger.warning("job socket %s left without updating presence: %s", self.channel_name, exc)

    async def _push_presence(self, viewers: list[str]) -> None:
        for group, kind in ((self.group, "job.presence"), (STUDIO_GROUP, "studio.presence")):
            await self.channel_layer.group_send(group, {"type": kind, "job": str(self.job_id), "viewers": viewers})

    async def _stay_present(self) -> None:
        while True:
            await asyncio.sleep(collaboration.VIEWER_TOUCH_S)
            try:
                await database_sync_to_async(collaboration.viewer_touch)(channel_name=self.channel_name)
            except TRANSIENT as exc:
                # One missed touch: the row is still fresh for VIEWER_STALE; the next one will do.
                logger.warning("job socket %s could not refresh its presence: %s", self.channel_name, exc)

    async def job_presence(self, message: dict) -> None:
        await self.send_json({"type": "presence", "viewers": message["viewers"]})

    async def receive_json(self, content, **kwargs) -> None:
        since = content.get("since", 0) if isinstance(content, dict) else 0
        if not isinstance(since, int) or since < 0:
            await self.send_json({"type": "error", "message": "since must be a whole number >= 0"})
            return
        async with self._lock:
            self.last_sent = since
        await self._catch_up()
        if self._poller is None and isinstance(get_channel_layer(), InMemoryChannelLayer):
            self._poller = self.keep(self._poll_rows())

    async def job_event(self, message: dict) -> None:
        event = message["event"]
        if self.last_sent is None or event["seq"] <= self.last_sent:
            return
        if event["seq"] == self.last_sent + 1:
            async with self._lock:
                if event["seq"] == self.last_sent + 1:
                    await self.send_json(event)
                    self.last_sent = event["seq"]
                    return
        await self._catch_up()

    async def _catch_up(self) -> None:
        async with self._lock:
            for event in await self._events_after(self.last_sent):
                await self.send_json(event)
                self.last_sent = event["seq"]

    @database_sync_to_async
    def _events_after(self, seq: int) -> list[dict]:
        return [e.as_message() for e in JobEvent.objects.filter(job_id=self.job_id, seq__gt=seq).order_by("seq")]

    async def _poll_rows(self) -> None:
        while True:
            await asyncio.sleep(ROW_POLL_S)
            await self._catch_up()


class StudioConsumer(LifetimeTasks, AsyncJsonWebsocketConsumer):
    """The job list's live status: `/ws/studio/`, staff only.

    The page sends `{"since": N}` (the last event id it has) and receives status
    changes of every job after it, then new ones.
    """

    async def connect(self) -> None:
        if not await database_sync_to_async(_may_watch)(self.scope.get("user")):
            await self.close(code=FORBIDDEN)
            return
        self.last_id: int | None = None
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task | None = None
        await self.channel_layer.group_add(STUDIO_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for task in self._tasks:
            task.cancel()
        try:
            await self.channel_layer.group_discard(STUDIO_GROUP, self.channel_name)
        except TRANSIENT as exc:
            logger.warning("studio socket %s could not leave its group: %s", self.channel_name, exc)

    async def receive_json(self, content, **kwargs) -> None:
        since = content.get("since", 0) if isinstance(content, dict) else 0
        if not isinstance(since, int) or since < 0:
            await self.send_json({"type": "error", "message": "since must be a whole number >= 0"})
            return
        self.last_id = since
        await self._catch_up()
        if self._poller is None and isinstance(get_channel_layer(), InMemoryChannelLayer):
            self._poller = self.keep(self._poll_rows())

    async def studio_presence(self, message: dict) -> None:
        await self.send_json({"type": "presence", "job": message["job"], "viewers": message["viewers"]})

    async def studio_event(self, message: dict) -> None:
        if self.last_id is not None and message["event"]["id"] > self.last_id:
            await self._catch_up()

    async def _catch_up(self) -> None:
        async with self._lock:
            for event in await self._events_after(self.last_id):
                await self.send_json(event)
                self.last_id = event["id"]

    @database_sync_to_async
    def _events_after(self, last_id: int) -> list[dict]:
        rows = JobEvent.objects.filter(pk__gt=last_id, type__in=STUDIO_TYPES).order_by("pk")[:500]
        return [studio_message(e) for e in rows]

    async def _poll_rows(self) -> None:
        while True:
            await asyncio.sleep(ROW_POLL_S)
            await self._catch_up()
