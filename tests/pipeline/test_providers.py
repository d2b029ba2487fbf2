"""Every outside-service client, against a local fake that answers like the real API, faults included."""
import base64
import datetime as dt
import json

import pytest
from django.core.cache import cache

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, DataPackage, PresetConfig
from pipeline.contracts.preset import VoiceSpec
from pipeline.errors import APIError, ConfigurationError, ContractError, DataError, MediaGenerationError, ScriptError
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


def test_goatedbets_reads_the_week_and_sends_the_key(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    matchup = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)
    assert matchup.title == "BUF @ KC" and matchup.home.primary_color == "#E31837"
    assert [p.player for p in matchup.props] == ["Josh Allen", "Travis Kelce", "James Cook"]
    assert [s.path for s in upstream.seen] == ["/nfl/week/11"]
    assert upstream.seen[0].headers["X-API-Key"] == "key-goatedbets"


@pytest.mark.parametrize(("day", "week"), [
    (dt.date(2026, 9, 10), 1), (dt.date(2026, 9, 14), 1), (dt.date(2026, 9, 15), 2),
    (dt.date(2026, 11, 22), 11), (dt.date(2027, 1, 10), 18), (dt.date(2025, 9, 4), 1)])
def test_football_weeks_start_the_tuesday_after_labor_day(day, week):
    assert goatedbets.football_week(day) == week


def test_goatedbets_slate_lists_the_day_in_us_time_and_is_cached(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    provider = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path))
    slate = provider.slate(sport="nfl", date=dt.date(2026, 11, 22))
    assert [m.id for m in slate.matchups] == [fake.GB_MATCHUP_ID]
    assert provider.slate(sport="nfl", date=dt.date(2026, 11, 23)).matchups == []
    assert len(upstream.requests_to("/nfl/week/11")) == 1


def test_goatedbets_transient_faults_are_survived(upstream, tmp_path):
    fake.serve_goatedbets(upstream)
    upstream.fail("/nfl/week/11", "503", "reset", "malformed")
    matchup = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)
    assert len(matchup.props) == 3


@pytest.mark.parametrize(("props", "field"), [
    ({"props": [{"id": 1, "player": "X", "team": "BUF", "market": "m", "label": "L", "over": -110,
                 "under": -110}]}, "props.0.line"),
    ({"props": [{"id": 1, "player": "X", "team": "BUF", "market": "m", "label": "L", "line": "lots",
                 "over": -110, "under": -110}]}, "props.0.line"),
    ({"props": [{"id": 1, "player": "X", "team": "BUF", "market": "m", "label": "L", "line": "NaN",
                 "over": -110, "under": -110}]}, "props.0.line"),
    ({"props": []}, "props"),
])
def test_goatedbets_wrong_schema_names_the_field(upstream, tmp_path, props, field):
    fake.serve_goatedbets(upstream, props=lambda: props)
    with pytest.raises(ContractError) as info:
        goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)
    assert field in info.value.describe() and "goatedbets" in info.value.describe()


@pytest.mark.parametrize("answer", [[], "matchups", {"matchups": {"gb-1001": {}}}, {"matchups": [1, 2]}])
def test_goatedbets_answer_of_the_wrong_type_is_a_contract_error(upstream, tmp_path, answer):
    upstream.route("GET", "/nfl/week/", lambda seen: fake.ok(answer))
    with pytest.raises(ContractError, match="GET /nfl/week/11"):
        goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)


def test_goatedbets_without_a_key_says_which_variable(upstream, tmp_path):
    ctx = ctx_for(upstream, tmp_path)
    ctx.secrets = {"goatedbets": {"api_key": "", "base_url": upstream.url}}
    with pytest.raises(Exception, match="GOATEDBETS_API_KEY"):
        goatedbets.GoatedBets(options={}, ctx=ctx)


# --- L1 BallDontLie (fake: tests/fakes/upstream.py, after its published OpenAPI documents)


def test_balldontlie_nba_follows_the_cursor_and_carries_recent_form(upstream, tmp_path):
    fake.serve_balldontlie(upstream)
    slate = balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).slate(
        sport="nba", date=dt.date(2026, 11, 22))
    assert [m.id for m in slate.matchups] == ["balldontlie-nba-101", "balldontlie-nba-102"]
    first = slate.matchups[0]
    assert first.home.primary_color == "#007A33"  # from the shipped team table
    assert first.spread == -5.5 and first.total == 224.5  # documented as strings
    assert first.game_time == dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.UTC)
    props = {(p.player, p.market): p for p in first.props}
    # draftkings over/under only: no fanduel line, no milestone market
    assert set(props) == {("Jayson Tatum", "points"), ("Jalen Brunson", "assists"), ("Jalen Brunson", "points_1q")}
    tatum = props[("Jayson Tatum", "points")]
    assert (tatum.line, tatum.over_odds, tatum.season_avg) == (27.5, -115, 28.4)
    assert tatum.last5_avg == pytest.approx((31 + 24 + 29 + 35 + 22) / 5)  # the five newest games
    assert tatum.last5 == [22, 35, 29, 24, 31]  # the same games, oldest first, for the numbers shot's bars
    assert props[("Jalen Brunson", "points_1q")].season_avg is None  # no box-score field for first quarters
    assert upstream.seen[0].headers["Authorization"] == "key-balldontlie"
    assert [s.query.get("cursor") for s in upstream.requests_to("/nba/v1/games")] == [None, ["101"]]
    assert upstream.requests_to("/nba/v2/odds")[0].query["game_ids"] == ["101"]


def test_balldontlie_real_nfl_games_have_a_timestamp_date_and_form(upstream, tmp_path):
    """NFL games carry `date` as a full timestamp and no `datetime`: that used to crash L1."""
    fake.serve_balldontlie(upstream)
    matchup = balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(
        "balldontlie-nfl-424129")
    assert matchup.game_time == dt.datetime(2026, 11, 22, 21, 25, tzinfo=dt.UTC)
    assert matchup.home.city == "Kansas City" and matchup.away.abbreviation == "BUF"
    cook = next(p for p in matchup.props if p.player == "James Cook")
    assert cook.season_avg == pytest.approx(2 * sum([92, 80, 77, 101, 63, 40]) / 10, abs=0.05)
    assert cook.last5_avg == pytest.approx((92 + 80 + 77 + 101 + 63) / 5)
    assert upstream.requests_to("/nfl/v1/odds/player_props")[0].query["game_id"] == ["424129"]


def test_balldontlie_edges_are_ranked_by_form(upstream, tmp_path):
    """With averages, L2 no longer ranks every edge 0 and the copy does not always say over."""
    from pipeline.layers.l2_calendar import pick_props

    fake.serve_balldontlie(upstream)
    matchup = balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("balldontlie-nba-101")
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    ranked = pick_props(DataPackage(source="balldontlie", fetched_at=now, odds_as_of=now, matchup=matchup), 3)
    assert ranked[0].player == "Jalen Brunson" and ranked[0].market == "assists"  # 7.1 against 6.5
    assert ranked[0].last5_avg is not None


def test_balldontlie_game_without_a_line_is_a_data_error(upstream, tmp_path):
    fake.serve_balldontlie(upstream)
    upstream.route("GET", "/nba/v2/odds", lambda seen: fake.ok({"data": [], "meta": {}}))
    with pytest.raises(DataError, match="no line"):
        balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("balldontlie-nba-101")


@pytest.mark.parametrize(("path", "answer", "where"), [
    ("/nba/v1/games/101", [], "GET /nba/v1/games/101"),
    ("/nba/v2/odds", {"data": "none"}, "GET /nba/v2/odds"),
    ("/nba/v2/odds", {"data": [{**fake.bdl_odds(101), "spread_home_value": "NaN"}]}, "spread_home_value"),
    ("/nba/v2/odds", {"data": [{**fake.bdl_odds(101), "total_value": "Infinity"}]}, "total_value"),
    ("/nba/v2/odds/player_props", {"data": [{"id": 1}]}, "GET /nba/v2/odds/player_props"),
    ("/nba/v1/players", ["Tatum"], "GET /nba/v1/players"),
])
def test_balldontlie_wrong_shapes_are_contract_errors_naming_the_endpoint(upstream, tmp_path, path, answer, where):
    fake.serve_balldontlie(upstream)
    upstream.route("GET", path, lambda seen: fake.ok(answer))
    with pytest.raises(ContractError) as info:
        balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("balldontlie-nba-101")
    assert where in info.value.describe()


def test_balldontlie_other_leagues_are_refused_in_words(upstream, tmp_path):
    with pytest.raises(ConfigurationError, match="NBA and the NFL, not MLB"):
        balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).slate(
            sport="mlb", date=dt.date(2026, 6, 1))


# --- L1 predictions


def test_the_offline_prediction_is_the_no_vig_moneyline(tmp_path):
    from pipeline.layers.l1_data.fixture import FixtureData
    from pipeline.layers.l1_data.prediction import predict

    matchup = FixtureData(options={}, ctx=None).matchup("nfl-20261122-buf-kc")  # KC -135, BUF +114
    forecast = predict(matchup, {}, None)
    home, away = 135 / 235, 100 / 214
    assert forecast.pick == "KC" and forecast.confidence == pytest.approx(home / (home + away), abs=1e-4)
    assert forecast.home_win_prob + forecast.away_win_prob == pytest.approx(1.0, abs=1e-3)
    assert forecast.label == "Analysis, not a guarantee"


@pytest.mark.parametrize(("api", "path", "wrap"), [
    ("anthropic", "/v1/messages", lambda text: {"content": [{"type": "text", "text": text}]}),
    ("gemini", "/v1beta/models/", lambda text: {"candidates": [{"content": {"parts": [{"text": text}]}}]}),
])
def test_a_model_prediction_is_traced_to_the_data(upstream, tmp_path, api, path, wrap):
    from pipeline.layers.l1_data.fixture import FixtureData
    from pipeline.layers.l1_data.prediction import predict

    matchup = FixtureData(options={}, ctx=None).matchup("nfl-20261122-buf-kc")
    good = {"pick": "BUF", "confidence": 0.55, "reasons": ["Josh Allen has cleared 262.5 in form (268.2)."]}
    upstream.route("POST", path, lambda seen: fake.ok(wrap(json.dumps(good))))
    forecast = predict(matchup, {"predictor": api}, ctx_for(upstream, tmp_path))
    assert (forecast.pick, forecast.away_win_prob, forecast.home_win_prob) == ("BUF", 0.55, 0.45)
    invented = {**good, "reasons": ["Buffalo are 9-1 in their last ten."]}
    upstream.route("POST", path, lambda seen: fake.ok(wrap(json.dumps(invented))))
    with pytest.raises(ContractError, match="9, 1"):
        predict(matchup, {"predictor": api}, ctx_for(upstream, tmp_path))


def test_the_copy_labels_the_pick_as_analysis():
    from pipeline.layers.l1_data.prediction import from_moneylines

    data, calendar = data_and_calendar()
    data = data.model_copy(update={"prediction": from_moneylines(data.matchup)})
    calendar = calendar.model_copy(update={"segments": [
        calendar.segments[0].model_copy(update={"id": "matchup", "kind": "matchup"})]})
    segment = template.write_script(data, calendar, PRESET, {}, None).segments[0]
    said = segment.narration.lower()
    assert "55 percent" in said and "analysis, not a guarantee" in said
    assert any(f.field == "prediction.confidence" for f in segment.figures)


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


def test_openai_speech_comes_with_word_timings(upstream, tmp_path):
    """OpenAI's speech endpoint answers audio only; the words are timed by aligning the script to it."""
    from pipeline.layers.l4_audio import espeak_lib

    spoken = espeak_lib.speak("Hello there, sports fans", voice="en-gb", words_per_minute=160, pitch=40)
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(spoken.rate)
        out.writeframes((spoken.samples * 32767).astype("<i2").tobytes())
    upstream.route("POST", "/v1/audio/speech", lambda seen: fake.ok(buffer.getvalue(),
                                                                     headers={"Content-Type": "audio/wav"}))
    upstream.fail("/v1/audio/speech", "503")
    speech = cloud.openai_speech("Hello there, sports fans", VoiceSpec(), {}, ctx_for(upstream, tmp_path, "L4"))
    assert speech.rate == spoken.rate and 1.0 < len(speech.samples) / speech.rate <= len(spoken.samples) / spoken.rate
    assert [w[0] for w in speech.words] == ["Hello", "there,", "sports", "fans"]
    starts = [w[1] for w in speech.words]
    assert starts == sorted(starts) and starts[-1] > 0.5


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


@pytest.mark.parametrize(("model", "size", "format_sent"), [
    ("gpt-image-1", "1024x1536", False), ("dall-e-3", "1024x1792", True), ("dall-e-2", "1024x1024", True)])
def test_openai_images_ask_each_model_in_its_documented_shape(upstream, tmp_path, model, size, format_sent):
    fake.serve_openai_images(upstream)
    image = image_apis.openai_images({"model": model}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))
    sent = json.loads(upstream.requests_to("/v1/images/generations")[0].body)
    assert sent["size"] == size and ("response_format" in sent) == format_sent
    assert image.width > 0 and not upstream.requests_to("/images/")  # bytes in the answer, no second fetch


def test_openai_images_garbage_is_a_media_error(upstream, tmp_path):
    upstream.route("POST", "/v1/images/generations", lambda seen: fake.ok({"data": [
        {"b64_json": base64.b64encode(b"<html>not an image</html>").decode()}]}))
    with pytest.raises(MediaGenerationError, match="not a usable image"):
        image_apis.openai_images({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", (1080, 1920))


@pytest.mark.parametrize("answer", [[], {"data": []}, {"data": "x"}, {"data": [{"revised_prompt": "x"}]}])
def test_openai_images_wrong_shapes_are_named(upstream, tmp_path, answer):
    upstream.route("POST", "/v1/images/generations", lambda seen: fake.ok(answer))
    with pytest.raises((ContractError, APIError), match="data"):
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


@pytest.mark.parametrize(("size", "ratio"), [((1080, 1920), "9:16"), ((1080, 1350), "4:5"), ((1080, 1080), "1:1")])
def test_gemini_images_ask_for_the_format_aspect_ratio(upstream, tmp_path, size, ratio):
    fake.serve_gemini_images(upstream)
    image = image_apis.gemini_images({}, ctx_for(upstream, tmp_path, "L5"))("a stadium", size)
    sent = json.loads(upstream.requests_to("/v1beta/models/")[0].body)
    assert sent["generationConfig"]["imageConfig"]["aspectRatio"] == ratio
    w, h = (int(v) for v in ratio.split(":"))
    assert image.width * h == image.height * w  # no square to crop


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


def test_comfyui_queue_post_is_not_sent_twice(upstream, tmp_path, monkeypatch):
    """A ComfyUI POST /prompt that fails after it was sent is not retried: a retry would queue a second image."""
    monkeypatch.setattr(image_apis, "POLL_S", 0.01)
    upstream.route("POST", "/prompt", lambda seen: fake.ok({"prompt_id": "p-1", "number": 1}))
    upstream.fail("/prompt", "reset")
    workflow = {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}}}
    generate = image_apis.comfyui({"workflow": workflow, "prompt_node": "6"}, ctx_for(upstream, tmp_path, "L5"))
    with pytest.raises(APIError):
        generate("a stadium", (1080, 1920))
    assert len(upstream.requests_to("/prompt")) == 1
