"""Encoding profiles: what the files L6 makes carry, per destination (presets.models.Destination picks one).

Kept apart from the encoder's code so that the models and the admin can list the profiles without loading it.
"""
from __future__ import annotations

from dataclasses import dataclass

# What every file L6 makes carries, so Instagram Reels, TikTok and YouTube Shorts take it as made and every player
# shows the colours the reviewer approved: BT.709 limited range tagged in the stream (H.264 VUI) and the
# container (colr); closed GOPs with a keyframe at least every KEYFRAME_S; at most two B-frames in a row; stereo
# AAC at 48 kHz; no edit lists (both tracks start at 0, the AAC priming is trimmed); the index at the front.
COLOUR_ARGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
KEYFRAME_S = 2
MAX_B_FRAMES = 2
AUDIO_ARGS = ["-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2"]
# Without an edit list the B-frames' delay is carried by negative composition offsets (ctts version 1), so the
# first frame shows at 0 with the audio; the AAC encoder's priming (1024 samples, 21 ms) stays within a frame.
CONTAINER_ARGS = ["-movflags", "+faststart+write_colr+negative_cts_offsets", "-use_editlist", "0"]


# The pixel rate bitrates are given for: a 1080x1920 frame at 30 fps.
REFERENCE_PIXELS_PER_S = 1080 * 1920 * 30


@dataclass(frozen=True)
class Encoder:
    """How x264 encodes: to a quality (`crf`), held under `max_mbps` (megabits a second for 1080x1920 at 30 fps,
    scaled to the plan's pixel rate) by the VBV when the profile caps it. Every profile keeps the GOP, B-frame
    and colour rules above."""

    preset: str = "veryfast"
    crf: int = 20
    max_mbps: float | None = None
    threads: int = 0

    def ceiling(self, width: int, height: int, fps: int) -> int | None:
        """The VBV's ceiling in kilobits a second for this size, or None when uncapped."""
        if self.max_mbps is None:
            return None
        return round(self.max_mbps * 1000 * width * height * fps / REFERENCE_PIXELS_PER_S)

    def video_args(self, width: int = 1080, height: int = 1920, fps: int = 30) -> list[str]:
        args = ["-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf)]
        if ceiling := self.ceiling(width, height, fps):
            args += ["-maxrate", f"{ceiling}k", "-bufsize", f"{2 * ceiling}k"]
        args += ["-pix_fmt", "yuv420p", *COLOUR_ARGS, "-g", str(KEYFRAME_S * fps), "-bf", str(MAX_B_FRAMES),
                 "-x264-params", "open-gop=0:colorprim=bt709:transfer=bt709:colormatrix=bt709"]
        return args + (["-threads", str(self.threads)] if self.threads else [])


@dataclass(frozen=True)
class EncodingProfile:
    """What a destination is sent (a desk admin picks one per destination: presets.models.Destination)."""

    label: str
    encoder: Encoder


# The platforms re-encode every upload, so what they are given must be clean enough to survive a second encode:
# CRF 17 is visually lossless for graphics and text, and a busy picture (grain, a crowd) gets the bits it needs,
# up to 12 Mb/s at 1080p30 (YouTube recommends 8 for 1080p uploads; Instagram takes at most 25 for Reels). Flat
# graphics need far less than 8 at that quality, and are not padded to it: a target bitrate (ABR) starved the
# first frames, the cover, on small renders.
PROFILES: dict[str, EncodingProfile] = {
    "social": EncodingProfile("Instagram Reels, TikTok and YouTube Shorts (CRF 17, at most 12 Mb/s at 1080p)",
                              Encoder(crf=17, max_mbps=12)),
    "compact": EncodingProfile("Compact: quality-driven (CRF 20), small files for the desk's own review copies",
                               Encoder(crf=20)),
    "master": EncodingProfile("Master: near-lossless (CRF 14) for the archive", Encoder(crf=14)),
}
DEFAULT_PROFILE = "social"
INSTAGRAM_MAX_MBPS = 25


def bitrate_problem(kbps: float, seconds: float, encoder: Encoder, width: int, height: int,
                    fps: int) -> str | None:
    """A capped (platform) profile's video bitrate over its ceiling or Instagram's; an uncapped profile (the
    desk's own copies, the archive) has no limit to break. The VBV lets a file spend its buffer (two seconds'
    worth of the ceiling) on top of the ceiling, which shows in the average of a short piece."""
    ceiling = encoder.ceiling(width, height, fps)
    if ceiling is None:
        return None
    if kbps > INSTAGRAM_MAX_MBPS * 1000:
        return f"video at {kbps / 1000:.1f} Mb/s, over Instagram's {INSTAGRAM_MAX_MBPS} Mb/s"
    if kbps > ceiling * (1 + 2 / max(seconds, 1e-3)) * 1.05:
        return f"video at {kbps / 1000:.2f} Mb/s, over the profile's {ceiling / 1000:.2f} Mb/s"
    return None
