"""A fake upstream on loopback that answers like the real APIs, with faults chosen per request.

Routes are registered as handlers returning (status, headers, body). Faults are
queued per path prefix and consumed one request at a time:

    "503", "500", "429:2" (429 with Retry-After: 2), "reset" (connection closed
    mid-answer), "slow:3" (answer after 3 s), "malformed" (a cut-off JSON body),
    "schema" (valid JSON of the wrong shape), "404", "401", "lost" (the request is carried out, then the
    connection is cut before the answer)

A probability mode (`transient_rate`) injects 503/429/reset/slow faults at random
for load tests. Every request is recorded with its time.
"""
from __future__ import annotations

import base64
import datetime as dt
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
            if fault == "lost":
                # The work was done and its answer never arrives (a cut connection, a proxy's timeout).
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
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

        def do_PUT(self) -> None:
            self._serve("PUT")

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


# GoatedBets. The plans (shared/seeds/000, fetch_goatedbets_data) give its URL, {API_URL}/{sport}/week/{week};
# the body is the week's matchups with their lines and props embedded.
GB_TEAMS = {
    "home": {"id": 12, "name": "Chiefs", "city": "Kansas City", "abbr": "KC", "colors": ["#E31837", "#FFB81C"]},
    "away": {"id": 3, "name": "Bills", "city": "Buffalo", "abbr": "BUF", "colors": ["#00338D", "#C60C30"]},
}
# 2026-11-22 is in week 11 of the 2026 NFL season (week 1 began Tuesday 8 September).
GB_WEEK = 11
GB_MATCHUP_ID = f"goatedbets-nfl-w{GB_WEEK}-gb-1001"


def goatedbets_props() -> dict:
    return {"updated_at": "2026-11-21T15:00:00Z", "props": [
        {"id": 1, "player": "Josh Allen", "team": "BUF", "position": "QB", "market": "passing_yards",
         "label": "Passing Yards", "line": 262.5, "over": -115, "under": -105, "season_avg": 251.4,
         "last5_avg": 268.2},
        {"id": 2, "player": "Travis Kelce", "team": "KC", "market": "receiving_yards", "label": "Receiving Yards",
         "line": 58.5, "over": -112, "under": -108, "season_avg": 61.3, "last5_avg": 66.8},
        {"id": 3, "player": "James Cook", "team": "BUF", "market": "rushing_yards", "label": "Rushing Yards",
         "line": 71.5, "over": -110, "under": -110, "last5_avg": 84.6}]}


def goatedbets_week(props=goatedbets_props) -> dict:
    answer = props()
    matchup = {"id": "gb-1001", "start_time": "2026-11-22T21:25:00Z", "venue": "Arrowhead", **GB_TEAMS,
               "lines": {"spread": -2.5, "total": 47.5, "home_ml": -135, "away_ml": 114},
               "props": answer["props"]}
    return {"sport": "nfl", "week": GB_WEEK, "updated_at": answer.get("updated_at"), "matchups": [matchup]}


def serve_goatedbets(upstream: Upstream, *, props=goatedbets_props) -> None:
    upstream.route("GET", "/nfl/week/", lambda seen: ok(goatedbets_week(props)))


# BallDontLie, as its published OpenAPI documents describe it (repository balldontlie-api/mcp, files
# openapi/nba.yml and openapi/nfl.yml): league-prefixed paths; NBA odds under v2, NFL odds under v1;
# spread, total and prop line values as strings; NFL games with `date` a full timestamp and no
# `datetime`; player props in one page, over_under and milestone markets mixed; NFL teams with
# `location` and no `city`; stats by player id.
BDL_NBA_TEAMS = {
    "home": {"id": 2, "conference": "East", "division": "Atlantic", "city": "Boston", "name": "Celtics",
             "full_name": "Boston Celtics", "abbreviation": "BOS"},
    "away": {"id": 20, "conference": "East", "division": "Atlantic", "city": "New York", "name": "Knicks",
             "full_name": "New York Knicks", "abbreviation": "NYK"},
}
BDL_NFL_TEAMS = {
    "home": {"id": 16, "conference": "AFC", "division": "WEST", "location": "Kansas City", "name": "Chiefs",
             "full_name": "Kansas City Chiefs", "abbreviation": "KC"},
    "away": {"id": 4, "conference": "AFC", "division": "EAST", "location": "Buffalo", "name": "Bills",
             "full_name": "Buffalo Bills", "abbreviation": "BUF"},
}


def bdl_nba_game(game_id: int) -> dict:
    return {"id": game_id, "date": "2026-11-22", "season": 2026, "status": "7:30 pm ET", "period": 0,
            "time": None, "postseason": False, "home_team_score": 0, "visitor_team_score": 0,
            "datetime": "2026-11-23T00:30:00.000Z", "home_team": BDL_NBA_TEAMS["home"],
            "visitor_team": BDL_NBA_TEAMS["away"]}


def bdl_nfl_game(game_id: int) -> dict:
    return {"id": game_id, "visitor_team": BDL_NFL_TEAMS["away"], "home_team": BDL_NFL_TEAMS["home"],
            "summary": "", "venue": "GEHA Field at Arrowhead Stadium", "week": 12,
            "date": "2026-11-22T21:25:00.000Z", "season": 2026, "postseason": False, "status": "Scheduled"}


def bdl_odds(game_id: int, *, spread="-5.5", total="224.5") -> dict:
    return {"id": 77000 + game_id, "game_id": game_id, "vendor": "draftkings", "spread_home_value": spread,
            "spread_home_odds": -110, "spread_away_value": spread.lstrip("-") if spread else None,
            "spread_away_odds": -110, "moneyline_home_odds": -225, "moneyline_away_odds": 185,
            "total_value": total, "total_over_odds": -110, "total_under_odds": -110,
            "updated_at": "2026-11-22T18:00:00.000Z"}


BDL_PLAYERS = {
    "nba": {434: ("Jayson", "Tatum", "F", BDL_NBA_TEAMS["home"]),
            666: ("Jalen", "Brunson", "G", BDL_NBA_TEAMS["away"])},
    "nfl": {490: ("James", "Cook", "RB", BDL_NFL_TEAMS["away"]),
            12: ("Josh", "Allen", "QB", BDL_NFL_TEAMS["away"]),
            33: ("Travis", "Kelce", "TE", BDL_NFL_TEAMS["home"])},
}
BDL_PROPS = {
    "nba": [(9001, 434, "draftkings", "points", "27.5", -115, -105),
            (9002, 434, "fanduel", "points", "28.5", -110, -110),
            (9003, 666, "draftkings", "assists", "6.5", -120, 100),
            (9004, 666, "draftkings", "points_1q", "7.5", -110, -110)],
    "nfl": [(111967700, 490, "draftkings", "rushing_yards", "71.5", -115, -110),
            (111967701, 12, "draftkings", "passing_yards", "262.5", -115, -105),
            (111967702, 33, "draftkings", "receiving_yards", "58.5", -112, -108)],
}
# Box-score numbers per player for recent games (newest first), and the season line, by the documents' stat names.
BDL_NBA_GAMES = {434: [31, 24, 29, 35, 22, 18, 40], 666: [8, 5, 9, 7, 6, 4]}
BDL_NFL_GAMES = {490: {"rushing_yards": [92, 80, 77, 101, 63, 40]}, 12: {"passing_yards": [280, 301, 244, 266, 250]},
                 33: {"receiving_yards": [70, 55, 81, 49, 62]}}


def _bdl_player(league: str, player_id: int) -> dict:
    first, last, position, team = BDL_PLAYERS[league][player_id]
    return {"id": player_id, "first_name": first, "last_name": last, "position": position,
            "position_abbreviation": position, "team": team}


def serve_balldontlie(upstream: Upstream, *, games=None) -> None:
    """Both leagues: two NBA games on 2026-11-22 over two pages (cursor), one NFL game."""
    def nba_games(seen):
        if seen.query.get("cursor") == ["101"]:
            return ok({"data": [bdl_nba_game(102)], "meta": {"next_cursor": None, "per_page": 100}})
        return ok({"data": [bdl_nba_game(101)], "meta": {"next_cursor": 101, "per_page": 100}})

    def props(league):
        def answer(seen):
            game_id = int(seen.query["game_id"][0])
            rows = []
            for prop_id, player_id, vendor, prop_type, line, over, under in BDL_PROPS[league]:
                rows.append({"id": prop_id, "game_id": game_id, "player_id": player_id, "vendor": vendor,
                             "prop_type": prop_type, "line_value": line,
                             "market": {"type": "over_under", "over_odds": over, "under_odds": under},
                             "updated_at": "2026-11-22T18:00:00.000Z"})
            rows.append({"id": 1, "game_id": game_id, "player_id": next(iter(BDL_PLAYERS[league])),
                         "vendor": "draftkings", "prop_type": "anytime_td" if league == "nfl" else "points",
                         "line_value": "0.5", "market": {"type": "milestone", "odds": -250},
                         "updated_at": "2026-11-22T18:01:00.000Z"})
            return ok({"data": rows, "meta": {"per_page": len(rows)}})
        return answer

    def players(league):
        def answer(seen):
            ids = [int(i) for i in seen.query.get("player_ids[]", [])]
            return ok({"data": [_bdl_player(league, i) for i in ids if i in BDL_PLAYERS[league]],
                       "meta": {"next_cursor": None, "per_page": 100}})
        return answer

    def nba_season_averages(seen):
        player_id = int(seen.query["player_id"][0])
        points = BDL_NBA_GAMES.get(player_id, [])
        row = {"games_played": 18, "player_id": player_id, "season": int(seen.query["season"][0]),
               "pts": 28.4 if player_id == 434 else 19.9, "ast": 3.9 if player_id == 434 else 7.1,
               "reb": 8.2, "stl": 1.0, "blk": 0.6, "fg3m": 3.1, "turnover": 2.5, "min": "36:10"}
        return ok({"data": [row] if points else []})

    def stats(league):
        def answer(seen):
            ids = [int(i) for i in seen.query.get("player_ids[]", [])]
            rows = []
            for player_id in ids:
                if league == "nba":
                    series = {"pts": BDL_NBA_GAMES.get(player_id, []),
                              "ast": BDL_NBA_GAMES.get(player_id, [])}
                else:
                    series = BDL_NFL_GAMES.get(player_id, {})
                count = max((len(v) for v in series.values()), default=0)
                for age in range(count):
                    day = dt.date(2026, 11, 20) - dt.timedelta(days=7 * age)
                    game = {"id": 5000 + age, "date": day.isoformat()}
                    row = {"player": _bdl_player(league, player_id), "game": game}
                    row.update({name: values[age] for name, values in series.items() if age < len(values)})
                    rows.append(row)
            # The documents do not promise an order: oldest first here, so the client must sort.
            rows.reverse()
            return ok({"data": rows, "meta": {"next_cursor": None, "per_page": 100}})
        return answer

    def nfl_season_stats(seen):
        ids = [int(i) for i in seen.query.get("player_ids[]", [])]
        rows = []
        for player_id in ids:
            totals = {name: sum(values) * 2 for name, values in BDL_NFL_GAMES.get(player_id, {}).items()}
            rows.append({"player": _bdl_player("nfl", player_id), "games_played": 10, "season": 2026,
                         "postseason": False, **totals})
        return ok({"data": rows, "meta": {"per_page": 100}})

    upstream.route("GET", "/nba/v1/games", nba_games)
    upstream.route("GET", "/nba/v1/games/101", lambda seen: ok({"data": bdl_nba_game(101)}))
    upstream.route("GET", "/nba/v2/odds", lambda seen: ok({"data": [bdl_odds(int(seen.query["game_ids"][0]))],
                                                          "meta": {"next_cursor": None, "per_page": 25}}))
    upstream.route("GET", "/nba/v2/odds/player_props", props("nba"))
    upstream.route("GET", "/nba/v1/players", players("nba"))
    upstream.route("GET", "/nba/v1/season_averages", nba_season_averages)
    upstream.route("GET", "/nba/v1/stats", stats("nba"))
    upstream.route("GET", "/nfl/v1/games", lambda seen: ok({"data": [bdl_nfl_game(424129)],
                                                           "meta": {"next_cursor": None, "per_page": 100}}))
    upstream.route("GET", "/nfl/v1/games/424129", lambda seen: ok({"data": bdl_nfl_game(424129)}))
    upstream.route("GET", "/nfl/v1/odds", lambda seen: ok({"data": [bdl_odds(int(seen.query["game_ids"][0]),
                                                                             spread="-2.5", total="47.5")],
                                                          "meta": {"next_cursor": None, "per_page": 25}}))
    upstream.route("GET", "/nfl/v1/odds/player_props", props("nfl"))
    upstream.route("GET", "/nfl/v1/players", players("nfl"))
    upstream.route("GET", "/nfl/v1/season_stats", nfl_season_stats)
    upstream.route("GET", "/nfl/v1/stats", stats("nfl"))


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


# OpenAI images, as its API reference describes POST /v1/images/generations: the sizes each model accepts,
# `response_format` (url or b64_json) for DALL-E only, one image for dall-e-3; errors are 400s with an
# `error` object naming the parameter.
OPENAI_IMAGE_SIZES = {"gpt-image-1": {"1024x1024", "1024x1536", "1536x1024", "auto"},
                      "dall-e-3": {"1024x1024", "1024x1792", "1792x1024"},
                      "dall-e-2": {"256x256", "512x512", "1024x1024"}}


def _openai_error(message: str, param: str):
    return ok({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}},
              status=400)


def serve_openai_images(upstream: Upstream, png: bytes | None = None) -> None:
    def answer(seen):
        body = json.loads(seen.body)
        model = body.get("model", "dall-e-2")
        if model not in OPENAI_IMAGE_SIZES:
            return _openai_error(f"Invalid model {model}", "model")
        if body.get("size", "1024x1024") not in OPENAI_IMAGE_SIZES[model]:
            return _openai_error(f"Invalid size for {model}", "size")
        if model == "gpt-image-1" and "response_format" in body:
            return _openai_error("Unknown parameter: 'response_format'.", "response_format")
        if model == "dall-e-3" and body.get("n", 1) != 1:
            return _openai_error("dall-e-3 makes one image per request", "n")
        width, height = (int(v) for v in body.get("size", "1024x1024").replace("auto", "1024x1024").split("x"))
        data = png or png_bytes(width // 16, height // 16)
        if model != "gpt-image-1" and body.get("response_format", "url") == "url":
            return ok({"created": 1, "data": [{"url": f"{upstream.url}/images/out.png"}]})
        return ok({"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]})

    upstream.route("POST", "/v1/images/generations", answer)
    upstream.route("GET", "/images/", lambda seen: ok(png or png_bytes(64, 112), headers={"Content-Type": "image/png"}))


# Gemini generateContent with an image model: generationConfig.imageConfig.aspectRatio from the accepted
# list; the image comes back as an inlineData part.
GEMINI_RATIOS = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}


def serve_gemini_images(upstream: Upstream) -> None:
    def answer(seen):
        body = json.loads(seen.body)
        for part in body.get("contents", [{}])[0].get("parts", []):
            inline = part.get("inline_data") or part.get("inlineData")
            if inline is None:
                continue
            mime = inline.get("mime_type") or inline.get("mimeType")
            try:
                picture = _is_picture(base64.b64decode(inline.get("data", ""), validate=True))
            except (ValueError, TypeError):
                picture = None
            if mime not in ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif") or picture is None:
                return ok({"error": {"code": 400, "message": "Unable to process input image.",
                                     "status": "INVALID_ARGUMENT"}}, status=400)
        config = body.get("generationConfig", {})
        ratio = config.get("imageConfig", {}).get("aspectRatio", "1:1")
        if ratio not in GEMINI_RATIOS:
            return ok({"error": {"code": 400, "message": f"Invalid aspect ratio {ratio}",
                                 "status": "INVALID_ARGUMENT"}}, status=400)
        w, h = (int(v) for v in ratio.split(":"))
        image = base64.b64encode(png_bytes(w * 16, h * 16)).decode()
        return ok({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Here is the image."}, {"inlineData": {"mimeType": "image/png", "data": image}}]},
            "finishReason": "STOP"}]})

    upstream.route("POST", "/v1beta/models/", answer)


def serve_all(upstream: Upstream) -> None:
    """Every outside service one job touches: odds (L1), an LLM (L3), speech (L4) and images (L5)."""
    serve_goatedbets(upstream)
    upstream.route("POST", "/v1/chat/completions", lambda seen: ok(_script_for(seen)))
    upstream.route("POST", "/v1/audio/speech", lambda seen: ok(wav_bytes(0.6), headers={"Content-Type": "audio/wav"}))
    serve_openai_images(upstream, png_bytes(90, 160))


# ---------------------------------------------------------------------------------------------- reference images
# How each image API documents taking reference pictures, as these fakes check them:
# - OpenAI, API reference "Create image edit" (POST /v1/images/edits): multipart/form-data; `image` (or
#   `image[]`, repeated) up to 16 PNG, WebP or JPEG files under 50 MB for gpt-image-1 (dall-e-2: one square
#   PNG); `prompt` required; `size`, `n`, `model` as form fields. The answer has the generations' shape.
# - BFL (api.bfl.ai reference): FLUX1.1 [pro] takes `image_prompt`, a base64 image for Flux Redux; FLUX.1
#   Kontext [pro]/[max] take `input_image` (base64), with `input_image_2`..`input_image_4` for more, and an
#   `aspect_ratio`. Both answer {"id", "polling_url"} and are polled at get_result.
# - Gemini, image generation guide (editing with images): `contents[].parts[]` with a `text` part and
#   `inline_data` {`mime_type`, `data` (base64)} parts (`inlineData`/`mimeType` in camel case also accepted).
# - ComfyUI, server.py: POST /upload/image takes multipart `image` (the file), `type` (input), `subfolder` and
#   `overwrite`, and answers {"name", "subfolder", "type"}; a LoadImage node's `image` input names the file.

def multipart_fields(seen: Seen) -> list[tuple[str, str | None, bytes]]:
    """(field name, file name, bytes) of each part of a multipart/form-data request, as a server parses it."""
    from email import policy
    from email.parser import BytesParser

    content_type = seen.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return []
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + seen.body)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get_payload(decode=True)) for part in message.iter_parts()]


def _is_picture(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except OSError:
        return None


def serve_openai_image_edits(upstream: Upstream) -> None:
    def answer(seen):
        parts = multipart_fields(seen)
        if not parts:
            return _openai_error("The request must be multipart/form-data", "image")
        fields = {name: data.decode() for name, filename, data in parts if filename is None}
        images = [(name, data) for name, filename, data in parts if filename is not None]
        model = fields.get("model", "dall-e-2")
        if not fields.get("prompt"):
            return _openai_error("Missing required parameter: 'prompt'.", "prompt")
        if not images or any(name not in ("image", "image[]") for name, _ in images):
            return _openai_error("Missing required parameter: 'image'.", "image")
        limit = 16 if model == "gpt-image-1" else 1
        formats = {"PNG", "JPEG", "WEBP"} if model == "gpt-image-1" else {"PNG"}
        if len(images) > limit or any(_is_picture(data) not in formats for _, data in images):
            return _openai_error(f"Invalid image for {model}", "image")
        if fields.get("size", "1024x1024") not in OPENAI_IMAGE_SIZES.get(model, ()):
            return _openai_error(f"Invalid size for {model}", "size")
        width, height = (int(v) for v in fields.get("size", "1024x1024").replace("auto", "1024x1024").split("x"))
        image = base64.b64encode(png_bytes(width // 16, height // 16)).decode()
        return ok({"created": 1, "data": [{"b64_json": image}]})

    upstream.route("POST", "/v1/images/edits", answer)


FLUX_KONTEXT_RATIOS = {"21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21", "4:5", "5:4"}


def serve_flux(upstream: Upstream) -> None:
    def submit(seen):
        body = json.loads(seen.body)
        model = seen.path.rsplit("/", 1)[-1]
        if not isinstance(body.get("prompt"), str):
            return ok({"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}, status=422)
        pictures = [body[key] for key in body if key == "image_prompt" or key.startswith("input_image")]
        if model.startswith("flux-kontext"):
            if "image_prompt" in body or body.get("aspect_ratio", "1:1") not in FLUX_KONTEXT_RATIOS:
                return ok({"detail": [{"loc": ["body"], "msg": "not a Kontext request"}]}, status=422)
        elif any(key.startswith("input_image") for key in body):
            return ok({"detail": [{"loc": ["body", "input_image"], "msg": "extra field"}]}, status=422)
        for picture in pictures:
            try:
                if _is_picture(base64.b64decode(picture, validate=True)) is None:
                    raise ValueError
            except (ValueError, TypeError):
                return ok({"detail": [{"loc": ["body", "image"], "msg": "not a base64 image"}]}, status=422)
        return ok({"id": "t1", "polling_url": f"{upstream.url}/v1/get_result?id=t1"})

    upstream.route("POST", "/v1/flux-", submit)
    upstream.route("GET", "/v1/get_result", lambda seen: ok(
        {"id": "t1", "status": "Ready", "result": {"sample": f"{upstream.url}/samples/t1.png"}}))
    upstream.route("GET", "/samples/", lambda seen: ok(png_bytes(), headers={"Content-Type": "image/png"}))


def serve_comfyui(upstream: Upstream) -> None:
    """A ComfyUI server that keeps uploads and refuses a LoadImage node naming a file it does not have."""
    uploads: dict[str, bytes] = {}

    def upload(seen):
        parts = multipart_fields(seen)
        files = [(filename, data) for name, filename, data in parts if name == "image" and filename]
        fields = {name: data.decode() for name, filename, data in parts if filename is None}
        if not files or fields.get("type", "input") not in ("input", "temp", "output"):
            return 400, {"Content-Type": "text/plain"}, b""
        filename, data = files[0]
        subfolder = fields.get("subfolder", "")
        uploads[f"{subfolder}/{filename}" if subfolder else filename] = data
        return ok({"name": filename, "subfolder": subfolder, "type": fields.get("type", "input")})

    def queue(seen):
        graph = json.loads(seen.body)["prompt"]
        for node_id, node in graph.items():
            if node.get("class_type") == "LoadImage" and node["inputs"].get("image") not in uploads:
                return ok({"error": {"type": "prompt_outputs_failed_validation", "message": "Invalid image file"},
                           "node_errors": {node_id: {"errors": [{"type": "value_not_in_list"}]}}}, status=400)
        return ok({"prompt_id": "p-1", "number": 1, "node_errors": {}})

    upstream.route("POST", "/upload/image", upload)
    upstream.route("POST", "/prompt", queue)
    upstream.route("GET", "/history/p-1", lambda seen: ok({"p-1": {"status": {"status_str": "success"}, "outputs": {
        "9": {"images": [{"filename": "out_0001.png", "subfolder": "", "type": "output"}]}}}}))
    upstream.route("GET", "/view", lambda seen: ok(png_bytes(), headers={"Content-Type": "image/png"}))
    upstream.uploads = uploads


# ---------------------------------------------------------------------------------------------- vision critique
# Vision input as each API documents it:
# - OpenAI, "Images and vision" guide (chat completions): a user message whose `content` is a list of parts,
#   {"type": "text", "text"} and {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}};
#   `response_format: {"type": "json_object"}` asks for JSON; the answer is choices[0].message.content.
# - Anthropic, "Vision" docs (messages API): content blocks {"type": "image", "source": {"type": "base64",
#   "media_type": "image/jpeg", "data"}} before the {"type": "text"} block; `max_tokens` required; the answer's
#   content[0].text.

def _data_url_picture(url) -> bool:
    if not isinstance(url, str) or not url.startswith("data:image/jpeg;base64,"):
        return False
    try:
        return _is_picture(base64.b64decode(url.split(",", 1)[1], validate=True)) == "JPEG"
    except (ValueError, TypeError):
        return False


def serve_openai_vision(upstream: Upstream, critiques: list[dict]) -> None:
    def answer(seen):
        body = json.loads(seen.body)
        user = body["messages"][-1]
        parts = user.get("content")
        if not isinstance(parts, list) or not any(p.get("type") == "text" for p in parts):
            return _openai_error("content must be a list of parts with a text part", "messages")
        images = [p for p in parts if p.get("type") == "image_url"]
        if not images or not all(_data_url_picture(p.get("image_url", {}).get("url")) for p in images):
            return _openai_error("Invalid image URL", "messages")
        return ok({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                   "message": {"role": "assistant", "content": json.dumps({"critiques": critiques})}}]})

    upstream.route("POST", "/v1/chat/completions", answer)


def serve_anthropic_vision(upstream: Upstream, critiques: list[dict]) -> None:
    def answer(seen):
        body = json.loads(seen.body)
        if "max_tokens" not in body:
            return ok({"type": "error", "error": {"type": "invalid_request_error",
                                                  "message": "max_tokens: Field required"}}, status=400)
        blocks = body["messages"][-1]["content"]
        images = [b for b in blocks if b.get("type") == "image"]
        for block in images:
            source = block.get("source", {})
            try:
                valid = (source.get("type") == "base64" and source.get("media_type") == "image/jpeg"
                         and _is_picture(base64.b64decode(source.get("data", ""), validate=True)) == "JPEG")
            except (ValueError, TypeError):
                valid = False
            if not valid:
                return ok({"type": "error", "error": {"type": "invalid_request_error",
                                                      "message": "messages.0.content: invalid image"}}, status=400)
        if not images or blocks[-1].get("type") != "text":
            return ok({"type": "error", "error": {"type": "invalid_request_error", "message": "no image"}},
                      status=400)
        return ok({"id": "msg_1", "type": "message", "role": "assistant", "stop_reason": "end_turn",
                   "content": [{"type": "text", "text": json.dumps({"critiques": critiques})}]})

    upstream.route("POST", "/v1/messages", answer)


def serve_gemini_vision(upstream: Upstream, critiques: list[dict]) -> None:
    """Gemini generateContent with pictures (the "Image understanding" guide): a text part and `inline_data`
    {`mime_type`, `data`} parts; `generationConfig.responseMimeType` asks for JSON; the answer's text is in
    candidates[0].content.parts[0].text."""
    def answer(seen):
        body = json.loads(seen.body)
        parts = body.get("contents", [{}])[-1].get("parts", [])
        pictures = [p.get("inline_data") or p.get("inlineData") for p in parts
                    if "inline_data" in p or "inlineData" in p]
        if not any("text" in p for p in parts) or not pictures:
            return ok({"error": {"code": 400, "message": "contents must hold text and an image",
                                 "status": "INVALID_ARGUMENT"}}, status=400)
        for picture in pictures:
            try:
                valid = (picture.get("mime_type") or picture.get("mimeType")) == "image/jpeg" and _is_picture(
                    base64.b64decode(picture.get("data", ""), validate=True)) == "JPEG"
            except (ValueError, TypeError):
                valid = False
            if not valid:
                return ok({"error": {"code": 400, "message": "Unable to process input image.",
                                     "status": "INVALID_ARGUMENT"}}, status=400)
        return ok({"candidates": [{"content": {"role": "model", "parts": [
            {"text": json.dumps({"critiques": critiques})}]}, "finishReason": "STOP"}]})

    upstream.route("POST", "/v1beta/models/", answer)
