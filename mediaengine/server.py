"""The ASGI server the studio runs under: Daphne, with request bodies bounded before anything buffers them.

Daphne reads a whole request body (Twisted keeps it in a temporary file) and then hands all of it to the
application's queue in memory before Django sees a byte, so DATA_UPLOAD_MAX_MEMORY_SIZE comes too late: an
anonymous 300 MB POST to the login page cost 300 MB of memory. Here the declared length is checked when the
headers arrive, and a body without one (chunked) is counted as it arrives; past the limit the client gets 413
in words and the connection is closed, so memory stays flat under a flood.

Run with `python -m mediaengine.server [daphne's options] mediaengine.asgi:application`.
"""
from __future__ import annotations

import logging
import os

# This process serves every request and socket from threads of its own: it shares a bounded pool of database
# connections (mediaengine/env.py database_config) instead of keeping one per thread.
os.environ.setdefault("DB_POOL", "1")

from daphne import server as daphne_server  # noqa: E402
from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.http_protocol import HTTPFactory, WebRequest  # noqa: E402

logger = logging.getLogger("mediaengine.server")

# The largest body any page takes: a preview recording (jobs.services.recordings.MAX_RECORDING_BYTES) on its
# own path, and everything else (JSON, brand uploads: settings.UPLOAD_MAX_BYTES) under the smaller bound.
BODY_MAX_BYTES = 16 * 1024 * 1024
RECORDING_MAX_BYTES = 64 * 1024 * 1024 + 64 * 1024  # the recording and its form's fields
RECORDING_SUFFIX = b"/recording"


def body_limit(path: bytes) -> int:
    return RECORDING_MAX_BYTES if path.split(b"?", 1)[0].rstrip(b"/").endswith(RECORDING_SUFFIX) else BODY_MAX_BYTES


class BoundedRequest(WebRequest):
    refused = False
    received = 0

    def _limit(self) -> int:
        return body_limit(getattr(self.channel, "_path", b"") or b"")

    def gotLength(self, length):
        import time

        last_request[0] = time.monotonic()
        if length is not None and length > self._limit():
            self._refuse(length)
            length = 0  # nothing more of it is kept
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received += len(data)
        if self.received > self._limit():
            self._refuse(self.received)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.refused:
            return
        super().requestReceived(command, path, version)

    def _refuse(self, size: int) -> None:
        self.refused = True
        limit = self._limit()
        logger.warning("refused a request body of %s bytes or more (the limit is %s)", size, limit)
        body = (f"The request is too large: at most {limit // 2**20} MB may be sent here.\n").encode()
        transport = self.channel.transport
        transport.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        transport.loseConnection()


class BoundedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedRequest
        return protocol


# Memory given back: the studio's previews and suggestions build plans and frames (tens of MB of numpy and Pillow
# buffers) in many threads; glibc keeps an arena per thread and keeps freed pages, so Daphne grew 570-725 MB in a
# 3-minute load and never shrank. Two arenas, and the freed pages handed back to the system every 30 s.
M_ARENA_MAX = -8
TRIM_EVERY_S = 30


def _libc():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def limit_arenas() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, 2)


IDLE_S = 30
last_request = [0.0]  # monotonic time of the newest request


def trim_memory() -> None:
    """Every TRIM_EVERY_S: after IDLE_S with no request, the pipeline's picture caches are let go (they refill
    with the next adjustment), then the freed pages go back to the system."""
    import time

    if time.monotonic() - last_request[0] >= IDLE_S:
        from pipeline.memory import release_caches

        release_caches()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


class BoundedServer(daphne_server.Server):
    def run(self):
        from twisted.internet import task

        # Server.run builds daphne.server.HTTPFactory by name: this process's server builds the bounded one.
        daphne_server.HTTPFactory = BoundedHTTPFactory
        task.LoopingCall(trim_memory).start(TRIM_EVERY_S, now=False)
        super().run()


class BoundedCommandLine(CommandLineInterface):
    server_class = BoundedServer


if __name__ == "__main__":
    limit_arenas()
    BoundedCommandLine.entrypoint()
