"""eSpeak NG through its C library (libespeak-ng, from Debian's espeak-ng package), for the word events.

The command-line `espeak-ng` writes a WAV and nothing else; the library also reports, as it synthesises,
where each word of the text starts in the audio (espeakEVENT_WORD, with the word's position in the text).
Those are the offline voice's word timings: measured by the engine that speaks, not an even split.

The library keeps global state, so one synthesis runs at a time in a process (a lock); it is fast (about
10 ms per sentence), so the pipeline's thread pool loses nothing by waiting.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import re
import threading
from dataclasses import dataclass

import numpy as np

from pipeline.errors import AudioGenerationError, ConfigurationError

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_LIST_TERMINATED, EVENT_WORD = 0, 1
PARAMETER_RATE, PARAMETER_PITCH = 1, 3
_WORD = re.compile(r"\S+")


class _Event(ctypes.Structure):
    """espeak_EVENT from speak_lib.h."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


class _Voice(ctypes.Structure):
    """espeak_VOICE from speak_lib.h: a voice asked for by language."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Spoken:
    samples: np.ndarray              # float32, -1..1
    rate: int
    words: list[tuple[str, float, float]]  # (word as written, start s, end s)


class _Engine:
    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as exc:
            raise ConfigurationError("the eSpeak NG library (libespeak-ng) is not installed", layer="L4",
                                     provider="espeak", hint="run `make run` as root, or `apt-get install "
                                     "espeak-ng`") from exc
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
        if self.rate <= 0:
            raise AudioGenerationError("eSpeak NG did not start (no voice data?)", layer="L4", provider="espeak")
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int]] = []
        # Kept on the instance: the library calls it for as long as the process lives.
        self.callback = _CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                self.events.append((event.text_position, event.sample))
            index += 1
        return 0

    def speak(self, text: str, *, voice: str, words_per_minute: int, pitch: int) -> Spoken:
        self.chunks, self.events = [], []
        # By name first (the command line's -v: "en-us", "en-us+f3"), then by language ("en-gb").
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0 and self.lib.espeak_SetVoiceByProperties(
                ctypes.byref(_Voice(languages=voice.split("+")[0].encode()))) != 0:
            raise ConfigurationError(f"eSpeak NG has no voice {voice!r}", layer="L4", provider="espeak",
                                     field="voice.voice", hint="pick a voice from `espeak-ng --voices`")
        self.lib.espeak_SetParameter(PARAMETER_RATE, int(words_per_minute), 0)
        self.lib.espeak_SetParameter(PARAMETER_PITCH, int(pitch), 0)
        data = text.encode()
        status = self.lib.espeak_Synth(ctypes.c_char_p(data), ctypes.c_size_t(len(data) + 1), 0, POS_CHARACTER, 0,
                                       CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != 0 or not self.chunks:
            raise AudioGenerationError(f"eSpeak NG could not speak the text (status {status})", layer="L4",
                                       provider="espeak", retryable=False)
        samples = np.concatenate(self.chunks).astype(np.float32) / 32768.0
        return Spoken(samples=samples, rate=self.rate, words=self._words(text, len(samples)))

    def _words(self, text: str, total: int) -> list[tuple[str, float, float]]:
        """Each written word's start: the first word event inside it (a number is spoken as several words,
        each with an event; the written word starts with the first). A word the engine gave no event of its
        own starts where the one before it ends. Ends are the next word's start, or the end of the audio."""
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
        starts: list[int | None] = [None] * len(tokens)
        for position, sample in self.events:
            index = position - 1  # 1-based, in characters
            for i, (_, low, high) in enumerate(tokens):
                if low <= index < high and starts[i] is None:
                    starts[i] = sample
                    break
        for i in range(len(starts)):
            if starts[i] is None:
                starts[i] = starts[i - 1] if i else 0
        words = []
        for i, (word, _, _) in enumerate(tokens):
            end = starts[i + 1] if i + 1 < len(tokens) else total
            words.append((word, starts[i] / self.rate, max(starts[i], end) / self.rate))
        return words


_engine: _Engine | None = None
_lock = threading.Lock()


def speak(text: str, *, voice: str = "en-us", words_per_minute: int = 175, pitch: int = 50) -> Spoken:
    """The text spoken by eSpeak NG, with where each written word starts and ends."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = _Engine()
        return _engine.speak(text, voice=voice, words_per_minute=words_per_minute, pitch=pitch)
