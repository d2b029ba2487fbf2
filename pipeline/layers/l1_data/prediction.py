"""A model's prediction for the matchup (the plans' `ai_models.py`): who wins, how likely, and why.

    predictor "novig" (the default, offline): the moneylines with the bookmaker's margin removed
    predictor "gemini" / "anthropic": a language model reads the matchup and answers
        {"pick": "KC", "confidence": 0.61, "reasons": ["..."]}

Every number a model writes in a reason must be one of the matchup's own figures (a line, a price,
an average); anything else is refused, as L3 refuses an untraced number. A prediction is analysis:
it carries that label into the copy.
"""
from __future__ import annotations

import json

from pydantic import Field

from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Prediction
from pipeline.contracts.l3 import numbers_in
from pipeline.errors import ConfigurationError, ContractError
from pipeline.layers.l3_ideas.llm import ChatClient
from pipeline.wire import Wire, parse_answer

PREDICTORS = ("novig", "gemini", "anthropic", "none")
FIELD = "providers.data.options.predictor"

SYSTEM = """You are a sports betting analyst. Read the matchup (JSON) and answer with one JSON object only:
{"pick": "<abbreviation of the team you expect to win>", "confidence": <its probability of winning, 0.5 to 1>,
 "reasons": ["<up to three short sentences>"]}
Every number in a reason must appear in the matchup data exactly as written there. Never invent statistics."""


def implied(american: int) -> float:
    """The win probability a price implies, margin included: -150 -> 0.6, +130 -> 0.4348."""
    return -american / (-american + 100) if american < 0 else 100 / (american + 100)


def no_vig(matchup: Matchup) -> tuple[float, float] | None:
    """(home, away) win probabilities from the moneylines with the margin taken out, or None without both."""
    if matchup.home_moneyline is None or matchup.away_moneyline is None:
        return None
    home, away = implied(matchup.home_moneyline), implied(matchup.away_moneyline)
    return home / (home + away), away / (home + away)


def _pct(probability: float) -> str:
    return f"{round(probability * 100)}%"


def from_moneylines(matchup: Matchup) -> Prediction | None:
    fair = no_vig(matchup)
    if fair is None:
        return None
    home_p, away_p = round(fair[0], 4), round(fair[1], 4)
    pick, confidence, price = ((matchup.home, home_p, matchup.home_moneyline) if home_p >= away_p
                               else (matchup.away, away_p, matchup.away_moneyline))
    priced = f"+{price}" if price > 0 else str(price)
    return Prediction(source="no-vig moneylines", pick=pick.abbreviation, confidence=confidence,
                      home_win_prob=home_p, away_win_prob=away_p,
                      reasons=[f"{pick.name} at {priced} on the moneyline is the market's favourite once the "
                               "bookmaker's margin is taken out."])


class WireAnswer(Wire):
    pick: str
    confidence: float = Field(ge=0.5, le=1.0)
    reasons: list[str] = Field(default=[], max_length=3)


def _figures(matchup: Matchup) -> set[str]:
    """Every number the matchup's data holds, as it may be written (262.5, -115, 115, 47)."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float):
            for text in (f"{value}", f"{value:.1f}".removesuffix(".0"), f"{abs(value):.1f}".removesuffix(".0"),
                         f"{abs(value)}"):
                found.add(text)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(matchup.model_dump(mode="json", exclude={"game_time"}))
    return found


def from_model(api: str, matchup: Matchup, options: dict, ctx: LayerContext) -> Prediction:
    chat = ChatClient(api, options, ctx, layer="L1", field=FIELD)
    text = chat.complete(SYSTEM, [{"role": "user", "content": json.dumps(matchup.model_dump(mode="json"))}])
    cleaned = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        decoded = json.loads(cleaned)
    except json.JSONDecodeError as exc:
        raise ContractError(f"the {api} prediction is not JSON ({exc.msg})", layer="L1", provider=api,
                            retryable=True) from exc
    answer = parse_answer(WireAnswer, decoded, f"the {api} prediction", provider=api, layer="L1")
    teams = {matchup.home.abbreviation: "home", matchup.away.abbreviation: "away"}
    if answer.pick.upper() not in teams:
        raise ContractError(f"the {api} prediction picks {answer.pick!r}, who is not in {matchup.title}",
                            layer="L1", provider=api, field="pick", retryable=True)
    known = _figures(matchup)
    for reason in answer.reasons:
        untraced = [n for n in numbers_in(reason) if n not in known]
        if untraced:
            raise ContractError(f"the {api} prediction writes {', '.join(untraced)}, which the matchup data does "
                                f"not have: {reason!r}", layer="L1", provider=api, field="reasons",
                                retryable=True, hint="retry, or use the offline no-vig predictor")
    pick = answer.pick.upper()
    home_p = answer.confidence if teams[pick] == "home" else round(1 - answer.confidence, 4)
    return Prediction(source=f"{api} {chat.model}", pick=pick, confidence=answer.confidence, home_win_prob=home_p,
                      away_win_prob=round(1 - home_p, 4), reasons=[r.strip() for r in answer.reasons if r.strip()])


def predict(matchup: Matchup, options: dict, ctx: LayerContext) -> Prediction | None:
    predictor = options.get("predictor", "novig")
    if predictor not in PREDICTORS:
        raise ConfigurationError(f"unknown predictor {predictor!r} (known: {', '.join(PREDICTORS)})", layer="L1",
                                 field=FIELD)
    if predictor == "none":
        return None
    if predictor == "novig":
        return from_moneylines(matchup)
    return from_model(predictor, matchup, options.get("predictor_options", {}), ctx)
