"""Files served with HEAD and byte ranges (RFC 9110 §14), as browsers and platforms fetch video: a player
seeks with `Range: bytes=N-`, a checker asks HEAD for the size first. Django's FileResponse does neither."""
from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Window:
    """A file object that reads at most `length` bytes from `start` (what FileResponse streams)."""

    def __init__(self, handle, start: int, length: int) -> None:
        handle.seek(start)
        self.handle, self.left = handle, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def file_response(request, path: Path, *, cache: str = "private, max-age=3600") -> HttpResponse:
    """The file, whole (200), one range of it (206), or 416 for a range past its end; HEAD answers the same
    headers with no body. One range only: a multipart answer is never needed by a player."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff", "Cache-Control": cache}
    start, end = 0, size - 1
    wanted = request.headers.get("Range", "")
    match = _RANGE.match(wanted.strip()) if wanted else None
    if wanted and match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
            return response
    partial = (start, end) != (0, size - 1)
    length = end - start + 1
    if request.method == "HEAD":
        response = HttpResponse(status=206 if partial else 200, content_type=content_type)
    else:
        response = FileResponse(_Window(path.open("rb"), start, length), content_type=content_type,
                                status=206 if partial else 200)
    for name, value in headers.items():
        response[name] = value
    response["Content-Length"] = str(length)
    if partial:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
