"""L1 data: a matchup with its teams, odds and player props."""
from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator, model_validator

from pipeline.contracts.base import Contract, HexColor, Sport


def _american_odds(value: int | None) -> int | None:
    if value is not None and -100 < value < 100:
        raise ValueError(f"{value} is not valid American odds (must be <= -100 or >= +100)")
    return value


class Team(Contract):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    city: str = ""
    abbreviation: str = Field(pattern=r"^[A-Z]{2,4}$")
    primary_color: HexColor
    secondary_color: HexColor

    @property
    def full_name(self) -> str:
        return f"{self.city} {self.name}".strip()


class PlayerProp(Contract):
    id: str = Field(min_length=1)
    player: str = Field(min_length=1)
    team: str = Field(pattern=r"^[A-Z]{2,4}$", description="abbreviation of the player's team")
    position: str = ""
    market: str = Field(min_length=1, description="machine name, e.g. passing_yards")
    label: str = Field(min_length=1, description="what people read, e.g. Passing Yards")
    line: float = Field(gt=0)
    over_odds: int
    under_odds: int
    season_avg: float | None = Field(default=None, ge=0)
    last5_avg: float | None = Field(default=None, ge=0)
    last5: list[Annotated[float, Field(ge=0)]] = Field(
        default=[], max_length=5, description="the player's figure in each of his last games, oldest first")

    _odds = field_validator("over_odds", "under_odds")(_american_odds)


class Matchup(Contract):
    id: str = Field(min_length=1)
    sport: Sport
    game_time: AwareDatetime
    venue: str = ""
    home: Team
    away: Team
    spread: float = Field(description="the home team's point spread, negative when favoured")
    total: float | None = Field(default=None, gt=0)
    home_moneyline: int | None = None
    away_moneyline: int | None = None
    props: list[PlayerProp] = Field(min_length=1)

    _moneyline = field_validator("home_moneyline", "away_moneyline")(_american_odds)

    @model_validator(mode="after")
    def _teams_and_props_agree(self) -> Matchup:
        if self.home.abbreviation == self.away.abbreviation:
            raise ValueError("home and away are the same team")
        teams = {self.home.abbreviation, self.away.abbreviation}
        for prop in self.props:
            if prop.team not in teams:
                raise ValueError(f"prop {prop.id} is for {prop.team}, who is not in this matchup")
        if len({p.id for p in self.props}) != len(self.props):
            raise ValueError("prop ids must be unique within a matchup")
        return self

    @property
    def title(self) -> str:
        return f"{self.away.abbreviation} @ {self.home.abbreviation}"

    def prop(self, prop_id: str) -> PlayerProp:
        for prop in self.props:
            if prop.id == prop_id:
                return prop
        raise KeyError(prop_id)


class Prediction(Contract):
    """Who a model expects to win, and why: analysis for the copy, never a guarantee.

    The probabilities are the predictor's own figures (traced as prediction.*); every number in a
    reason is one of the matchup's figures."""

    source: str = Field(min_length=1, description="no-vig moneylines, or the model that made it")
    pick: str = Field(pattern=r"^[A-Z]{2,4}$", description="abbreviation of the team expected to win")
    confidence: float = Field(ge=0.5, le=1.0, description="the pick's probability of winning")
    home_win_prob: float = Field(ge=0.0, le=1.0)
    away_win_prob: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(default=[], max_length=3)
    label: str = "Analysis, not a guarantee"

    @field_validator("reasons")
    @classmethod
    def _short(cls, value: list[str]) -> list[str]:
        for reason in value:
            if not 1 <= len(reason) <= 160:
                raise ValueError("each reason is a sentence of 1 to 160 characters")
        return value


class Slate(Contract):
    """What a data source lists for a date: the matchups a job can be made from."""

    source: str
    matchups: list[Matchup]


class DataPackage(Contract):
    """L1 output: the one matchup a job is about, and when its odds were read."""

    source: str = Field(min_length=1)
    fetched_at: AwareDatetime
    odds_as_of: AwareDatetime
    matchup: Matchup
    prediction: Prediction | None = None

    @model_validator(mode="after")
    def _pick_plays(self) -> DataPackage:
        if self.prediction and self.prediction.pick not in (self.matchup.home.abbreviation,
                                                            self.matchup.away.abbreviation):
            raise ValueError(f"the prediction picks {self.prediction.pick}, who is not in this matchup")
        return self
