"""What an MP4's boxes say about its video track: read straight from the file (ISO/IEC 14496-12), as a
platform's upload checker reads it.

L6's read-back holds every file to the encoding profile (pipeline/render/video.py) with these facts: no edit
lists, the colour box (colr, nclx: primaries, transfer, matrix, range), the keyframes (stss) and the frame
durations (stts), and the encoder's own settings string (x264 writes them into the stream).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
# H.273 code points
NCLX_NAMES = {1: "bt709", 2: "unspecified", 5: "bt470bg", 6: "smpte170m"}


@dataclass
class Track:
    handler: str = ""
    timescale: int = 0
    edit_list: bool = False
    colour: tuple[str, str, str, bool] | None = None  # primaries, transfer, matrix, full range
    keyframes: list[int] = field(default_factory=list)  # 1-based sample numbers (stss); empty: every sample
    durations: list[tuple[int, int]] = field(default_factory=list)  # (count, delta) runs (stts)
    samples: int = 0
    bytes: int = 0  # the samples' total size (stsz)

    @property
    def seconds(self) -> float:
        return sum(count * delta for count, delta in self.durations) / self.timescale if self.timescale else 0.0

    @property
    def bitrate(self) -> float:
        """Bits a second, over the track's whole length."""
        return 8 * self.bytes / self.seconds if self.seconds else 0.0


def _boxes(data: bytes, start: int, end: int):
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _walk(data: bytes, start: int, end: int, track: Track | None, tracks: list[Track]) -> None:
    for kind, body, stop in _boxes(data, start, end):
        if kind == b"trak":
            track = Track()
            tracks.append(track)
            _walk(data, body, stop, track, tracks)
            continue
        if kind in CONTAINERS:
            _walk(data, body, stop, track, tracks)
        elif track is None:
            continue
        elif kind == b"elst":
            track.edit_list = True
        elif kind == b"hdlr":
            track.handler = data[body + 8:body + 12].decode("ascii", "replace")
        elif kind == b"mdhd":
            version = data[body]
            track.timescale = struct.unpack(">I", data[body + (20 if version == 1 else 12):][:4])[0]
        elif kind == b"stss":
            count = struct.unpack(">I", data[body + 4:body + 8])[0]
            track.keyframes = list(struct.unpack(f">{count}I", data[body + 8:body + 8 + 4 * count]))
        elif kind == b"stts":
            count = struct.unpack(">I", data[body + 4:body + 8])[0]
            runs = struct.unpack(f">{2 * count}I", data[body + 8:body + 8 + 8 * count])
            track.durations = list(zip(runs[::2], runs[1::2], strict=True))
            track.samples = sum(runs[::2])
        elif kind == b"stsz":
            fixed, count = struct.unpack(">II", data[body + 4:body + 12])
            track.bytes = fixed * count if fixed else sum(struct.unpack(f">{count}I",
                                                                        data[body + 12:body + 12 + 4 * count]))
        elif kind == b"stsd":
            # One sample entry; a visual one (avc1) has 78 bytes of fields before its own boxes.
            for entry, entry_body, entry_end in _boxes(data, body + 8, stop):
                if entry in (b"avc1", b"avc3"):
                    for child, child_body, _ in _boxes(data, entry_body + 78, entry_end):
                        if child == b"colr" and data[child_body:child_body + 4] == b"nclx":
                            p, t, m = struct.unpack(">HHH", data[child_body + 4:child_body + 10])
                            full = bool(data[child_body + 10] & 0x80)
                            track.colour = (NCLX_NAMES.get(p, str(p)), NCLX_NAMES.get(t, str(t)),
                                            NCLX_NAMES.get(m, str(m)), full)


def tracks(path: Path) -> list[Track]:
    data = Path(path).read_bytes()
    found: list[Track] = []
    for kind, body, stop in _boxes(data, 0, len(data)):
        if kind == b"moov":
            _walk(data, body, stop, None, found)
    return found


_X264_OPTION = re.compile(rb"\b(bframes|keyint|open_gop|crf|bitrate|vbv_maxrate)=(\d+)")


def x264_options(path: Path) -> dict[str, int]:
    """The settings x264 wrote into the stream (its SEI text near the start of the media data)."""
    with open(path, "rb") as handle:
        head = handle.read(4 * 1024 * 1024)
    return {name.decode(): int(value) for name, value in _X264_OPTION.findall(head)}
