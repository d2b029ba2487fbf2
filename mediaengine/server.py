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


class BoundedServer(daphne_server.Server):
    def run(self):
        # Server.run builds daphne.server.HTTPFactory by name: this process's server builds the bounded one.
        daphne_server.HTTPFactory = BoundedHTTPFactory
        super().run()


class BoundedCommandLine(CommandLineInterface):
    server_class = BoundedServer


if __name__ == "__main__":
    BoundedCommandLine.entrypoint()
