"""A fake upstream on loopback that answers like the real APIs, with faults chosen per request.

Routes are registered as handlers returning (status, headers, body). Faults are
queued per path prefix and consumed one request at a time:

    "503", "500", "429:2" (429 with Retry-After: 2), "reset" (connection closed
    mid-answer), "slow:3" (answer after 3 s), "malformed" (a cut-off JSON body),
    "schema" (valid JSON of the wrong shape), "404", "401"

A probability mode (`transient_rate`) injects 503/429/reset/slow faults at random
for load tests. Every request is recorded with its time.
"""
from __future__ import annotations

import base64
import io
import json
import random
import socket
import struct
import threading
import time
import wave
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    at: float
    fault: str | None = None


@dataclass
class Upstream:
    routes: dict = field(default_factory=dict)
    faults: dict = field(default_factory=lambda: defaultdict(deque))
    seen: list = field(default_factory=list)
    transient_rate: float = 0.0
    slow_s: float = 3.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, prefix: str, handler) -> None:
        self.routes[(method, prefix)] = handler

    def fail(self, prefix: str, *faults: str) -> None:
        with self.lock:
            self.faults[prefix].extend(faults)

    def requests_to(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]

    def _fault_for(self, path: str) -> str | None:
        with self.lock:
            for prefix, queue in self.faults.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
            if self.transient_rate and self.rng.random() < self.transient_rate:
                return self.rng.choice(["503", "429:1", "reset", "slow", "500"])
        return None

    def _handler(self, method: str, path: str):
        best = None
        for (m, prefix), handler in self.routes.items():
            if m == method and path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, handler)
        return best[1] if best else None


def _make_handler(upstream: Upstream):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            return

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(method, parts.path, parse_qs(parts.query), dict(self.headers), body, time.monotonic())
            with upstream.lock:
                upstream.seen.append(seen)
            fault = upstream._fault_for(parts.path)
            seen.fault = fault
            if fault == "reset":
                # Close with RST so the client sees "connection reset by peer".
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if fault and fault.startswith("slow"):
                time.sleep(float(fault.split(":")[1]) if ":" in fault else upstream.slow_s)
                fault = None
            if fault and fault[0].isdigit():
                status, _, retry_after = fault.partition(":")
                headers = {"Retry-After": retry_after} if retry_after else {}
                return self._answer(int(status), headers, json.dumps({"error": f"fault {status}"}).encode())
            handler = upstream._handler(method, parts.path)
            if handler is None:
                return self._answer(404, {}, b'{"error": "no such route"}')
            status, headers, payload = handler(seen)
            if fault == "malformed":
                payload = payload[: max(1, len(payload) // 2)]
            elif fault == "schema":
                payload = json.dumps({"unexpected": True, "data": "not what you wanted"}).encode()
            return self._answer(status, headers, payload)

        def _answer(self, status: int, headers: dict, payload: bytes) -> None:
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


class _Server(ThreadingHTTPServer):
    # A real API sits behind a deep accept queue; Python's default of 5 would refuse connections
    # under the suite's concurrency, a fault nobody asked for.
    request_queue_size = 128


def start(upstream: Upstream | None = None) -> Upstream:
    upstream = upstream or Upstream()
    upstream.server = _Server(("127.0.0.1", 0), _make_handler(upstream))
    upstream.server.daemon_threads = True
    threading.Thread(target=upstream.server.serve_forever, daemon=True).start()
    return upstream


def stop(upstream: Upstream) -> None:
    upstream.server.shutdown()
    upstream.server.server_close()


def ok(payload, status: int = 200, headers: dict | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return status, headers or {}, body


# --- realistic payloads -----------------------------------------------------------------------------


def png_bytes(width: int = 64, height: int = 96, colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def wav_bytes(seconds: float = 0.8, rate: int = 22050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def pcm_b64(seconds: float = 0.6, rate: int = 22050) -> str:
    t = np.arange(int(seconds * rate)) / rate
    return base64.b64encode((0.3 * np.sin(2 * np.pi * 200 * t) * 32767).astype("<i2").tobytes()).decode()


GB_TEAMS = {
    "home": {"id": 12, "name": "Chiefs", "city": "Kansas City", "abbr": "KC", "colors": ["#E31837", "#FFB81C"]},
    "away": {"id": 3, "name": "Bills", "city": "Buffalo", "abbr": "BUF", "colors": ["#00338D", "#C60C30"]},
}


def goatedbets_matchup(matchup_id: str = "gb-1001") -> dict:
    return {"id": matchup_id, "sport": "nfl", "start_time": "2026-11-22T21:25:00Z", "venue": "Arrowhead",
            **GB_TEAMS, "lines": {"spread": -2.5, "total": 47.5, "home_ml": -135, "away_ml": 114}}


def goatedbets_props() -> dict:
    return {"updated_at": "2026-11-21T15:00:00Z", "props": [
        {"id": 1, "player": "Josh Allen", "team": "BUF", "position": "QB", "market": "passing_yards",
         "label": "Passing Yards", "line": 262.5, "over": -115, "under": -105, "season_avg": 251.4,
         "last5_avg": 268.2},
        {"id": 2, "player": "Travis Kelce", "team": "KC", "market": "receiving_yards", "label": "Receiving Yards",
         "line": 58.5, "over": -112, "under": -108, "season_avg": 61.3, "last5_avg": 66.8},
        {"id": 3, "player": "James Cook", "team": "BUF", "market": "rushing_yards", "label": "Rushing Yards",
         "line": 71.5, "over": -110, "under": -110, "last5_avg": 84.6}]}


def serve_goatedbets(upstream: Upstream, *, props=goatedbets_props) -> None:
    upstream.route("GET", "/v1/matchups", lambda seen: ok(
        {"matchups": [goatedbets_matchup()], "updated_at": "2026-11-21T15:00:00Z"}))
    upstream.route("GET", "/v1/matchups/gb-1001", lambda seen: ok({"matchup": goatedbets_matchup()}))
    upstream.route("GET", "/v1/matchups/gb-1001/props", lambda seen: ok(props()))


def _script_for(seen: Seen) -> dict:
    """What a well-behaved model answers: a script for the data it was sent (written by the template writer)."""
    import datetime as dt

    from pipeline.contracts import CalendarPlan, DataPackage, PresetConfig
    from pipeline.layers.l3_ideas import template

    request = json.loads(json.loads(seen.body)["messages"][-1]["content"])
    data = DataPackage.model_validate(request["data"])
    calendar = CalendarPlan(kind="reel", publish_at=dt.datetime.now(dt.UTC), segments=request["segments"])
    preset = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920}})
    script = template.write_script(data, calendar, preset, {"tone": request.get("tone", "hype")}, None)
    return {"choices": [{"message": {"role": "assistant", "content": script.model_dump_json()}}]}


def serve_all(upstream: Upstream) -> None:
    """Every outside service one job touches: odds (L1), an LLM (L3), speech (L4) and images (L5)."""
    serve_goatedbets(upstream)
    upstream.route("POST", "/v1/chat/completions", lambda seen: ok(_script_for(seen)))
    upstream.route("POST", "/v1/audio/speech", lambda seen: ok(wav_bytes(0.6), headers={"Content-Type": "audio/wav"}))
    image = base64.b64encode(png_bytes(90, 160)).decode()
    upstream.route("POST", "/v1/images/generations", lambda seen: ok({"data": [{"b64_json": image}]}))
