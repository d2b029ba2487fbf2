"""Every outside-service client, against a local fake that answers like the real API, faults included."""
import base64
import datetime as dt
import json

import pytest
from django.core.cache import cache

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, DataPackage, PresetConfig
from pipeline.contracts.preset import VoiceSpec
from pipeline.errors import APIError, ContractError, DataError, MediaGenerationError, ScriptError
from pipeline.layers.l1_data import balldontlie, goatedbets
from pipeline.layers.l3_ideas import llm, template
from pipeline.layers.l4_audio import cloud
from pipeline.layers.l5_media import image_apis
from tests.fakes import upstream as fake

PRESET = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920}})


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


def ctx_for(upstream, tmp_path, layer="L1"):
    secrets = {name: {"api_key": f"key-{name}", "base_url": upstream.url} for name in (
        "goatedbets", "balldontlie", "openai", "anthropic", "gemini", "elevenlabs", "flux", "comfyui")}
    return LayerContext(job_id="job-1", layer=layer, work_dir=tmp_path, secrets=secrets, cache=cache,
                        options={"BRAND_DIR": tmp_path})


# --- L1 GoatedBets


def test_goatedbets_normalises_a_matchup_and_sends_the_key(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    matchup = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("gb-1001")
    assert matchup.title == "BUF @ KC" and matchup.home.primary_color == "#E31837"
    assert [p.player for p in matchup.props] == ["Josh Allen", "Travis Kelce", "James Cook"]
    assert upstream.seen[0].headers["X-API-Key"] == "key-goatedbets"


def test_goatedbets_slate_is_cached(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    provider = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path))
    provider.slate(sport="nfl", date=dt.date(2026, 11, 22))
    provider.slate(sport="nfl", date=dt.date(2026, 11, 22))
    assert len(upstream.requests_to("/v1/matchups")) - len(upstream.requests_to("/v1/matchups/")) == 1


def test_goatedbets_transient_faults_are_survived(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    upstream.fail("/v1/matchups/gb-1001/props", "503", "reset", "malformed")
    matchup = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("gb-1001")
    assert len(matchup.props) == 3


@pytest.mark.parametrize(("props", "field"), [
    ({"props": [{"id": 1, "player": "X", "team": "BUF", "market": "m", "label": "L", "over": -110,
                 "under": -110}]}, "props.0.line"),
    ({"props": [{"id": 1, "player": "X", "team": "BUF", "market": "m", "label": "L", "line": "lots",
                 "over": -110, "under": -110}]}, "props.0.line"),
    ({"props": []}, "props"),
])
def test_goatedbets_wrong_schema_names_the_field(upstream, tmp_path, props, field):
    fake.serve_goatedbets(upstream, props=lambda: props)
    with pytest.raises(ContractError) as info:
        goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("gb-1001")
    assert field in info.value.describe() and "goatedbets" in info.value.describe()


def test_goatedbets_without_a_key_says_which_variable(upstream, tmp_path):
    ctx = ctx_for(upstream, tmp_path)
    ctx.secrets = {"goatedbets": {"api_key": "", "base_url": upstream.url}}
    with pytest.raises(Exception, match="GOATEDBETS_API_KEY"):
        goatedbets.GoatedBets(options={}, ctx=ctx)


# --- L1 BallDontLie


def bdl_game(game_id: int) -> dict:
    return {"id": game_id, "date": "2026-11-22", "datetime": "2026-11-23T00:30:00Z",
            "home_team": {"id": 2, "name": "Celtics", "city": "Boston", "abbreviation": "BOS",
                          "full_name": "Boston Celtics"},
            "visitor_team": {"id": 20, "name": "Knicks", "city": "New York", "abbreviation": "NYK",
                             "full_name": "New York Knicks"}}


def serve_balldontlie(upstream) -> None:
    def games(seen):
        if seen.query.get("cursor") == ["101"]:
            return fake.ok({"data": [bdl_game(102)], "meta": {"next_cursor": None}})
        return fake.ok({"data": [bdl_game(101)], "meta": {"next_cursor": 101}})

    upstream.route("GET", "/v1/games", games)
    upstream.route("GET", "/v1/games/101", lambda seen: fake.ok({"data": bdl_game(101)}))
    upstream.route("GET", "/v1/odds", lambda seen: fake.ok({"data": [
        {"game_id": int(seen.query["game_ids[]"][0]), "vendor": "draftkings", "spread_home_value": -5.5,
         "total_value": 224.5, "moneyline_home_odds": -225, "moneyline_away_odds": 185}]}))
    upstream.route("GET", "/v2/odds/player_props", lambda seen: fake.ok({"data": [
        {"id": 9001, "game_id": 101, "player_id": 434, "vendor": "draftkings", "prop_type": "points",
         "line_value": 27.5, "market": {"type": "over_under", "over_odds": -115, "under_odds": -105},
         "updated_at": "2026-11-22T18:00:00Z"},
        {"id": 9002, "game_id": 101, "player_id": 434, "vendor": "fanduel", "prop_type": "points",
         "line_value": 28.5, "market": {"type": "over_under", "over_odds": -110, "under_odds": -110}}]}))
    upstream.route("GET", "/v1/players/434", lambda seen: fake.ok({"data": {
        "id": 434, "first_name": "Jayson", "last_name": "Tatum", "position": "F",
        "team": {"id": 2, "name": "Celtics", "abbreviation": "BOS"}}}))


def test_balldontlie_follows_the_cursor_and_normalises(upstream, tmp_path):
    serve_balldontlie(upstream)
    slate = balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).slate(
        sport="nba", date=dt.date(2026, 11, 22))
    assert [m.id for m in slate.matchups] == ["balldontlie-nba-101", "balldontlie-nba-102"]
    first = slate.matchups[0]
    assert first.home.primary_color == "#007A33"  # from the shipped team table
    assert [(p.player, p.line, p.over_odds) for p in first.props] == [("Jayson Tatum", 27.5, -115)]
    assert upstream.seen[0].headers["Authorization"] == "key-balldontlie"
    assert [s.query.get("cursor") for s in upstream.requests_to("/v1/games")] == [None, ["101"]]


def test_balldontlie_game_without_a_line_is_a_data_error(upstream, tmp_path):
    serve_balldontlie(upstream)
    upstream.route("GET", "/v1/odds", lambda seen: fake.ok({"data": []}))
    with pytest.raises(DataError, match="no line"):
        balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("balldontlie-nba-101")


# --- L3 LLM


def data_and_calendar():
    from pipeline.layers.l1_data.fixture import FixtureData

    matchup = FixtureData(options={}, ctx=None).matchup("nfl-20261122-buf-kc")
    now = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
    data = DataPackage(source="fixture", fetched_at=now, odds_as_of=now, matchup=matchup)
    calendar = CalendarPlan(kind="reel", publish_at=now, segments=[
        {"id": "hook", "kind": "hook", "target_s": 3}, {"id": "prop_1", "kind": "prop", "target_s": 5,
                                                      "prop_id": matchup.props[0].id}])
    return data, calendar


def good_script_json() -> str:
    data, calendar = data_and_calendar()
    return template.write_script(data, calendar, PRESET, {}, None).model_dump_json()


@pytest.mark.parametrize(("api", "path", "wrap"), [
    ("openai", "/v1/chat/completions", lambda text: {"choices": [{"message": {"content": text}}]}),
    ("anthropic", "/v1/messages", lambda text: {"content": [{"type": "text", "text": text}]}),
    ("gemini", "/v1beta/models/", lambda text: {"candidates": [{"content": {"parts": [{"text": text}]}}]}),
])
def test_llm_writes_a_valid_script(upstream, tmp_path, api, path, wrap):
    upstream.route("POST", path, lambda seen: fake.ok(wrap(good_script_json())))
    data, calendar = data_and_calendar()
    script = llm.write_script(data, calendar, PRESET, {"api": api}, ctx_for(upstream, tmp_path, "L3"))
    assert [s.id for s in script.segments] == ["hook", "prop_1"]
    request = json.loads(upstream.requests_to(path)[0].body)
    assert "matchup" in json.dumps(request)


def test_llm_gets_one_repair_turn(upstream, tmp_path):
    answers = iter(['{"title": "x", "segments": []}', good_script_json()])
    upstream.route("POST", "/v1/chat/completions",
                   lambda seen: fake.ok({"choices": [{"message": {"content": next(answers)}}]}))
    data, calendar = data_and_calendar()
    llm.write_script(data, calendar, PRESET, {"api": "openai"}, ctx_for(upstream, tmp_path, "L3"))
    second = json.loads(upstream.requests_to("/v1/chat/completions")[1].body)
    assert "That answer is invalid" in second["messages"][-1]["content"]


def test_llm_invented_numbers_fail_after_the_repair(upstream, tmp_path):
    bad = json.loads(good_script_json())
    bad["segments"][1]["narration"] = "Josh Allen goes over 999 yards."
    upstream.route("POST", "/v1/chat/completions",
                   lambda seen: fake.ok({"choices": [{"message": {"content": json.dumps(bad)}}]}))
    data, calendar = data_and_calendar()
    with pytest.raises(ScriptError, match="999"):
        llm.write_script(data, calendar, PRESET, {"api": "openai"}, ctx_for(upstream, tmp_path, "L3"))
    assert len(upstream.requests_to("/v1/chat/completions")) == 2


def test_llm_answer_without_content_names_the_field(upstream, tmp_path):
    upstream.route("POST", "/v1/chat/completions", lambda seen: fake.ok({"choices": []}))
    data, calendar = data_and_calendar()
    with pytest.raises(APIError, match="choices.0.message.content"):
        llm.write_script(data, calendar, PRESET, {"api": "openai"}, ctx_for(upstream, tmp_path, "L3"))


# --- L4 cloud speech


def test_openai_speech(upstream, tmp_path):
    upstream.route("POST", "/v1/audio/speech", lambda seen: fake.ok(fake.wav_bytes(0.8)))
    upstream.fail("/v1/audio/speech", "503")
    speech = cloud.openai_speech("Hello there", VoiceSpec(), {}, ctx_for(upstream, tmp_path, "L4"))
    assert speech.rate == 22050 and 0.7 < len(speech.samples) / speech.rate <= 0.8


def test_elevenlabs_gives_word_timings(upstream, tmp_path):
    text = "Over two"
    upstream.route("POST", "/v1/text-to-speech/", lambda seen: fake.ok({
        "audio_base64": fake.pcm_b64(0.6), "alignment": {
            "characters": list(text), "character_start_times_seconds": [i * 0.05 for i in range(len(text))],
            "character_end_times_seconds": [i * 0.05 + 0.05 for i in range(len(text))]}}))
    speech = cloud.elevenlabs(text, VoiceSpec(), {}, ctx_for(upstream, tmp_path, "L4"))
    assert [w[0] for w in speech.words] == ["Over", "two"]
    assert speech.words[1][1] == pytest.approx(0.25)


# --- L5 images


def test_openai_images(upstream, tmp_path):
    upstream.route("POST", "/v1/images/generations", lambda seen: fake.ok({"data": [
        {"b64_json": base64.b64encode(fake.png_bytes()).decode()}]}))
    image = image_apis.openai_images({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))
    assert image.size == (64, 96)


def test_openai_images_garbage_is_a_media_error(upstream, tmp_path):
    upstream.route("POST", "/v1/images/generations", lambda seen: fake.ok({"data": [
        {"b64_json": base64.b64encode(b"<html>not an image</html>").decode()}]}))
    with pytest.raises(MediaGenerationError, match="not a usable image"):
        image_apis.openai_images({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))


def test_flux_polls_until_ready(upstream, tmp_path, monkeypatch):
    monkeypatch.setattr(image_apis, "POLL_S", 0.01)
    states = iter(["Pending", "Pending", "Ready"])
    upstream.route("POST", "/v1/flux-pro-1.1", lambda seen: fake.ok({"id": "t1", "polling_url":
                                                                      f"{upstream.url}/v1/get_result?id=t1"}))
    upstream.route("GET", "/v1/get_result", lambda seen: fake.ok(
        {"status": (state := next(states)), "result": {"sample": f"{upstream.url}/samples/t1.png"}
         if state == "Ready" else None}))
    upstream.route("GET", "/samples/", lambda seen: fake.ok(fake.png_bytes(), headers={"Content-Type": "image/png"}))
    image = image_apis.flux({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))
    assert image.size == (64, 96)
    assert len(upstream.requests_to("/v1/get_result")) == 3


def test_gemini_images(upstream, tmp_path):
    upstream.route("POST", "/v1beta/models/", lambda seen: fake.ok({"candidates": [{"content": {"parts": [
        {"text": "here"}, {"inlineData": {"mimeType": "image/png",
                                          "data": base64.b64encode(fake.png_bytes()).decode()}}]}}]}))
    image = image_apis.gemini_images({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))
    assert image.size == (64, 96)


def test_comfyui_queues_polls_and_fetches(upstream, tmp_path, monkeypatch):
    monkeypatch.setattr(image_apis, "POLL_S", 0.01)
    polls = iter([{}, {"p-1": {"status": {"status_str": "success"}, "outputs": {"9": {"images": [
        {"filename": "out_0001.png", "subfolder": "", "type": "output"}]}}}}])
    upstream.route("POST", "/prompt", lambda seen: fake.ok({"prompt_id": "p-1", "number": 1}))
    upstream.route("GET", "/history/p-1", lambda seen: fake.ok(next(polls)))
    upstream.route("GET", "/view", lambda seen: fake.ok(fake.png_bytes(), headers={"Content-Type": "image/png"}))
    workflow = {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}},
                "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512}}}
    generate = image_apis.comfyui({"workflow": workflow, "prompt_node": "6", "size_node": "5"},
                                  ctx_for(upstream, tmp_path, "L5"))
    assert generate("a stadium", (1080, 1920)).size == (64, 96)
    queued = json.loads(upstream.requests_to("/prompt")[0].body)["prompt"]
    assert queued["6"]["inputs"]["text"] == "a stadium" and queued["5"]["inputs"]["width"] == 1080
    assert upstream.requests_to("/view")[0].query["filename"] == ["out_0001.png"]
