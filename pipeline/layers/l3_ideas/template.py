"""The offline copywriter: varied, punchy copy written from the data, deterministic for a matchup.

Every number it writes comes from an L1 field and is recorded as a Figure. The
phrasing rotates with a seed made from the matchup and segment, so a day's posts
do not all read alike, while the same job always reads the same.
"""
from __future__ import annotations

import hashlib
import random

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, DataPackage, Figure, PresetConfig, Script, ScriptSegment, SegmentKind
from pipeline.contracts.l1 import Matchup, PlayerProp


def fmt(value: float) -> str:
    """A line or average as written on a betting slip: 262.5, 6.5, 47 (no trailing .0)."""
    return f"{value:.1f}".removesuffix(".0")


def odds(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _rng(*parts: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big"))


HOOKS = {
    "hype": [
        ("PROPS WE'RE HAMMERING", "{away} at {home}. These are the props we're hammering."),
        ("LOCK THESE IN", "{away} at {home} is loaded. Lock these in before the lines move."),
        ("THE BOOKS MISSED THESE", "The books might have missed a few in {away} at {home}. Let's go."),
        ("DON'T SLEEP ON THIS GAME", "Do not sleep on {away} at {home}. Here's where the value is."),
    ],
    "analyst": [
        ("WHERE THE VALUE IS", "{away} at {home}: here's where the numbers point."),
        ("PROPS BY THE NUMBERS", "We ran the numbers on {away} at {home}. Here's what stands out."),
        ("FORM VS THE LINE", "Recent form against the line, in {away} at {home}."),
    ],
}
CTAS = {
    "hype": [
        ("TAIL OR FADE?", "Drop your picks below", "Tail or fade? Drop your picks below and follow for more."),
        ("WHO YOU GOT?", "Follow for daily props", "Who you got? Follow for daily props."),
    ],
    "analyst": [
        ("YOUR READ?", "Comment your picks", "What's your read? Comment your picks, and follow for daily props."),
        ("MORE EVERY DAY", "Follow for daily props", "We post the numbers every day. Follow so you don't miss them."),
    ],
}
PROP_LINES = {
    "hype": [
        "{player} {side} {line} {label}. {form_sentence}",
        "Give me {player} {side} {line} {label}. {form_sentence}",
        "{player}, {side} {line} {label}. {form_sentence} Hammer it.",
    ],
    "analyst": [
        "{player} {side} {line} {label}. {form_sentence}",
        "We like {player} {side} {line} {label}. {form_sentence}",
    ],
}


def _tone(options: dict) -> str:
    """The preset's tone; the third variant of a job takes the other one, for a real choice."""
    tone = options.get("tone", "hype")
    tone = tone if tone in HOOKS else "hype"
    if options.get("variant") == 2:
        return "analyst" if tone == "hype" else "hype"
    return tone


def _prop_segment(segment_id: str, prop: PlayerProp, index: int, matchup: Matchup, tone: str,
                  seed: str) -> ScriptSegment:
    base = f"matchup.props[{index}]"
    form = prop.last5_avg if prop.last5_avg is not None else prop.season_avg
    form_field = "last5_avg" if prop.last5_avg is not None else "season_avg"
    over = form is None or form >= prop.line
    side = "over" if over else "under"
    price = prop.over_odds if over else prop.under_odds
    figures = [Figure(text=fmt(prop.line), field=f"{base}.line", value=prop.line),
               Figure(text=odds(price), field=f"{base}.{'over' if over else 'under'}_odds", value=price)]
    if form is not None:
        figures.append(Figure(text=fmt(form), field=f"{base}.{form_field}", value=form))
        window = "over his last five" if form_field == "last5_avg" else "this season"
        form_sentence = f"He's averaging {fmt(form)} {window}."
    else:
        form_sentence = "The matchup sets up for it."
    rng = _rng(seed, segment_id, tone)
    narration = rng.choice(PROP_LINES[tone]).format(player=prop.player, side=side, line=fmt(prop.line),
                                                    label=prop.label.lower(), form_sentence=form_sentence)
    body = f"{prop.label} · {odds(price)}"
    if form is not None:
        body += f" · L5 avg {fmt(form)}" if form_field == "last5_avg" else f" · avg {fmt(form)}"
    return ScriptSegment(id=segment_id, kind=SegmentKind.PROP, prop_id=prop.id, narration=narration,
                         headline=prop.player.upper(), stat=f"{'O' if over else 'U'} {fmt(prop.line)}",
                         body=body, figures=figures)


def _matchup_segment(segment_id: str, data: DataPackage, tone: str) -> ScriptSegment:
    matchup = data.matchup
    favourite, underdog = (matchup.home, matchup.away) if matchup.spread <= 0 else (matchup.away, matchup.home)
    points = abs(matchup.spread)
    figures = [Figure(text=fmt(matchup.spread), field="matchup.spread", value=matchup.spread),
               Figure(text=fmt(points), field="matchup.spread", value=matchup.spread)]
    stat = f"{matchup.home.abbreviation} {fmt(matchup.spread) if matchup.spread <= 0 else '+' + fmt(points)}"
    where = "at home" if favourite is matchup.home else "on the road"
    narration = f"The {favourite.full_name} are {fmt(points)} point favourites {where} against the {underdog.name}."
    body = ""
    if matchup.total is not None:
        figures.append(Figure(text=fmt(matchup.total), field="matchup.total", value=matchup.total))
        body = f"Total {fmt(matchup.total)}"
        narration += f" The total sits at {fmt(matchup.total)}."
    if data.prediction is not None:
        # The pick is analysis: the narration says so every time it is used.
        forecast = data.prediction
        team = matchup.home if forecast.pick == matchup.home.abbreviation else matchup.away
        percent = str(round(forecast.confidence * 100))
        figures.append(Figure(text=percent, field="prediction.confidence", value=forecast.confidence))
        narration += (f" Our model makes the {team.name} {percent} percent to win. That's analysis, "
                      "not a guarantee.")
    if tone == "hype":
        narration += " Here's how we're playing it."
    return ScriptSegment(id=segment_id, kind=SegmentKind.MATCHUP, narration=narration,
                         headline=matchup.title, stat=stat, body=body, figures=figures)


def write_script(data: DataPackage, calendar: CalendarPlan, preset: PresetConfig, options: dict,
                 ctx: LayerContext) -> Script:
    matchup = data.matchup
    tone = _tone(options)
    # Each variant draws its phrasing from its own seed.
    variant_seed = f"{matchup.id}#v{options.get('variant', 0)}" if options.get("variant") else matchup.id
    index_of = {prop.id: i for i, prop in enumerate(matchup.props)}
    names = {"away": matchup.away.full_name, "home": matchup.home.full_name}
    segments = []
    for planned in calendar.segments:
        rng = _rng(variant_seed, planned.id, tone)
        if planned.kind == SegmentKind.HOOK:
            headline, narration = rng.choice(HOOKS[tone])
            segments.append(ScriptSegment(id=planned.id, kind=planned.kind, headline=headline,
                                          body=matchup.title, narration=narration.format(**names)))
        elif planned.kind == SegmentKind.MATCHUP:
            segments.append(_matchup_segment(planned.id, data, tone))
        elif planned.kind == SegmentKind.PROP:
            prop = matchup.prop(planned.prop_id)
            segments.append(_prop_segment(planned.id, prop, index_of[prop.id], matchup, tone, variant_seed))
        else:
            headline, body, narration = rng.choice(CTAS[tone])
            segments.append(ScriptSegment(id=planned.id, kind=planned.kind, headline=headline, body=body,
                                          narration=narration))
    picks = "; ".join(f"{s.headline.title()} {s.stat}" for s in segments if s.kind == SegmentKind.PROP)
    caption = f"{matchup.away.full_name} at {matchup.home.full_name}. {picks}.".replace(". .", ".")
    return Script(title=f"{matchup.title} — {'props' if picks else 'preview'}", caption=caption,
                  hashtags=list(preset.hashtags), segments=segments)
