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
from pipeline.contracts.l1 import PlayerProp


def fmt(value: float) -> str:
    """A line or average as written on a betting slip: 262.5, 6.5, 47 (no trailing .0)."""
    return f"{value:.1f}".removesuffix(".0")


def odds(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _rng(*parts: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big"))


# Several phrasings per beat. A piece takes them in turn (its props never share an opener or a form sentence,
# so no phrase of four or more words is said twice) from a start drawn from the job; a day's batch opens each
# piece with the next hook (JobInputs.slot), so no two pieces of a day open alike. US English throughout.
# Headlines are short phrases: text.wrap breaks them at phrase boundaries and never leaves a word alone.
HOOKS = {
    "hype": [
        ("PROPS WE'RE HAMMERING", "{away} at {home}. These are the props we're hammering."),
        ("LOCK THESE IN", "{away} at {home}. Lock these in before the lines move."),
        ("THE BOOKS MISSED THESE", "The books missed a few in {away} at {home}."),
        ("DON'T SLEEP ON THIS ONE", "Don't sleep on {away} at {home}."),
        ("TODAY'S BEST BETS", "Best bets: {away} at {home}."),
        ("WE'RE ALL OVER THESE", "{away} versus {home}. We're all over these."),
        ("EASY MONEY? MAYBE", "Easy money in {away} at {home}?"),
        ("THE PLAYS THAT MATTER", "{away} at {home}: the plays that matter."),
    ],
    "analyst": [
        ("WHERE THE VALUE IS", "{away} at {home}: here's where the numbers point."),
        ("PROPS BY THE NUMBERS", "We ran the numbers on {away} at {home}. Here's what stands out."),
        ("FORM VS THE LINE", "Recent form against the line, in {away} at {home}."),
        ("WHAT THE DATA SAYS", "What the data says about {away} at {home}."),
        ("LINES WORTH A LOOK", "Three minutes of homework on {home} and {away}."),
        ("THE SMART MONEY", "Where sharp bettors look in {away} at {home}."),
        ("NUMBERS, NOT NOISE", "Numbers, not noise: {away} at {home}."),
        ("THE EDGE TONIGHT", "Looking for an edge in {home} against {away}."),
    ],
}
CTAS = {
    "hype": [
        ("TAIL OR FADE?", "Drop your picks below", "Tail or fade? Drop your picks below and follow for more."),
        ("WHO YOU GOT?", "Follow for daily props", "Who you got? Follow for daily props."),
        ("YOUR PICK?", "Tell us in the comments", "What's your pick? Tell us in the comments."),
    ],
    "analyst": [
        ("YOUR READ?", "Comment your picks", "What's your read? Comment your picks, and follow for daily props."),
        ("MORE EVERY DAY", "Follow for daily props", "We post the numbers every day. Follow so you don't miss them."),
        ("AGREE?", "Tell us what we missed", "Agree with the numbers? Tell us what we missed."),
    ],
}
# How a prop is said: the player, the side, the line and the stat in words, then his form. No two openers (and no
# two form sentences) share a phrase of four words.
PROP_OPENERS = {
    "hype": [
        "{player}, {side} {line} {label}.",
        "Give me {player} {side} {line} {label}.",
        "{player}: {side} {line} {label}. Easy.",
        "{player} {side} {line} {label} is the play.",
    ],
    "analyst": [
        "{player}, {side} {line} {label}.",
        "We like {player} {side} {line} {label}.",
        "The number on {player} is {line} {label}, and we lean {side}.",
        "Our look at {player}: {side} {line} {label}.",
    ],
}
FORM_SENTENCES = {
    "last5_avg": [
        "He's averaged {avg} in his last five.",
        "His last five games: {avg} a game.",
        "He's putting up {avg} a game lately.",
        "Recent form? {avg} a game.",
    ],
    "season_avg": [
        "He's averaged {avg} this season.",
        "His season average is {avg}.",
        "He puts up {avg} a game on the year.",
        "All year he's been good for {avg}.",
    ],
}
# A bet already said in the piece (two players on the same line of the same stat) is not said again in full.
SAME_BET = ["Same bet on {player}: {side} {line}.", "{player} gets the same call, {side} {line}.",
            "Add {player}, {side} {line} too."]
# Each opens with a word of its own: after two openers that end on the same stat ("... shots on goal."), two
# that began alike would say a phrase of four words twice.
NO_FORM = ["The matchup sets up for it.", "This spot is right for it.", "We like how this one sets up.",
           "It's a good spot for him."]


def _turn(options: list, start: int, position: int):
    return options[(start + position) % len(options)]


def _tone(options: dict) -> str:
    """The preset's tone; the third variant of a job takes the other one, for a real choice."""
    tone = options.get("tone", "hype")
    tone = tone if tone in HOOKS else "hype"
    if options.get("variant") == 2:
        return "analyst" if tone == "hype" else "hype"
    return tone


def _prop_segment(segment_id: str, prop: PlayerProp, index: int, position: int, tone: str,
                  start: int, said: dict[tuple, int]) -> ScriptSegment:
    """A prop, said plainly: "Saquon Barkley, over 94.5 rushing yards. He's averaged 112.2 in his last five." The
    screen says the same in short: OVER 94.5, the stat, the price in words and the form."""
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
        form_sentence = _turn(FORM_SENTENCES[form_field], start, position).format(avg=fmt(form))
    else:
        form_sentence = _turn(NO_FORM, start, position)
    bet = (side, fmt(prop.line), prop.label.lower())
    repeats = said.get(bet, 0)
    said[bet] = repeats + 1
    opener = (_turn(PROP_OPENERS[tone], start, position) if not repeats else SAME_BET[(repeats - 1) % len(SAME_BET)])
    opener = opener.format(player=prop.player, side=side, line=bet[1], label=bet[2])
    body = f"{prop.label} · {odds(price)}"
    if form is not None:
        body += f" · last five: {fmt(form)} a game" if form_field == "last5_avg" else f" · season: {fmt(form)} a game"
    return ScriptSegment(id=segment_id, kind=SegmentKind.PROP, prop_id=prop.id, narration=f"{opener} {form_sentence}",
                         headline=prop.player.upper(), stat=f"{side.upper()} {fmt(prop.line)}",
                         body=body, figures=figures)


def _matchup_segment(segment_id: str, data: DataPackage, tone: str) -> ScriptSegment:
    matchup = data.matchup
    favourite, underdog = (matchup.home, matchup.away) if matchup.spread <= 0 else (matchup.away, matchup.home)
    points = abs(matchup.spread)
    figures = [Figure(text=fmt(matchup.spread), field="matchup.spread", value=matchup.spread),
               Figure(text=fmt(points), field="matchup.spread", value=matchup.spread)]
    stat = f"{matchup.home.abbreviation} {fmt(matchup.spread) if matchup.spread <= 0 else '+' + fmt(points)}"
    where = "at home" if favourite is matchup.home else "on the road"
    if tone == "hype":
        narration = f"The {favourite.name} are {fmt(points)}-point favorites {where}."
    else:
        narration = (f"The {favourite.full_name} are {fmt(points)}-point favorites {where} against the "
                     f"{underdog.name}.")
    body = ""
    if matchup.total is not None:
        figures.append(Figure(text=fmt(matchup.total), field="matchup.total", value=matchup.total))
        body = f"Total {fmt(matchup.total)}"
        if tone != "hype":
            narration += f" The total sits at {fmt(matchup.total)}."
    if data.prediction is not None:
        # The pick is analysis: the narration says so every time it is used.
        forecast = data.prediction
        team = matchup.home if forecast.pick == matchup.home.abbreviation else matchup.away
        percent = str(round(forecast.confidence * 100))
        figures.append(Figure(text=percent, field="prediction.confidence", value=forecast.confidence))
        narration += (f" Our model: {team.name}, {percent} percent. Analysis, not a guarantee." if tone == "hype"
                      else f" Our model makes the {team.name} {percent} percent to win. That's analysis, "
                           "not a guarantee.")
    return ScriptSegment(id=segment_id, kind=SegmentKind.MATCHUP, narration=narration,
                         headline=matchup.title, stat=stat, body=body, figures=figures)


def _price_in_words(price: int) -> str:
    """What American odds mean, for a follower who does not bet every day."""
    return f"bet ${-price} to win $100" if price < 0 else f"a $100 bet wins ${price}"


def _post_caption(data: DataPackage, segments: list[ScriptSegment], hook: str, compliance: str) -> str:
    """The post's caption: the hook line, each pick in words with what its price means, the model's lean, the
    responsible-gambling line. Hashtags are kept apart (pipeline/post.py adds them per platform)."""
    matchup = data.matchup
    lines = [hook]
    for segment in segments:
        if segment.kind != SegmentKind.PROP:
            continue
        prop = matchup.prop(segment.prop_id)
        over = segment.stat.startswith("OVER")
        price = prop.over_odds if over else prop.under_odds
        form = prop.last5_avg if prop.last5_avg is not None else prop.season_avg
        line = (f"• {prop.player}: {'over' if over else 'under'} {fmt(prop.line)} {prop.label.lower()} at "
                f"{odds(price)} ({_price_in_words(price)}).")
        if form is not None:
            line += (f" He's averaged {fmt(form)} in his last five." if prop.last5_avg is not None
                     else f" He's averaged {fmt(form)} this season.")
        lines.append(line)
    if data.prediction is not None:
        team = matchup.home if data.prediction.pick == matchup.home.abbreviation else matchup.away
        lines.append(f"Our model gives the {team.name} a {round(data.prediction.confidence * 100)}% chance to win. "
                     "Analysis, not a guarantee.")
    lines.append(compliance)
    return "\n\n".join(lines)


def _hashtags(data: DataPackage, preset: PresetConfig, picked: list[str]) -> list[str]:
    """The preset's own tags, then the teams' and the players' in the piece (as people search for them; a player
    the piece does not show would be a tag that misleads), at most 30."""
    matchup = data.matchup
    tags = [*preset.hashtags, f"#{matchup.sport.value.upper()}",
            *(f"#{''.join(team.full_name.split())}" for team in (matchup.away, matchup.home)),
            *(f"#{''.join(ch for ch in matchup.prop(prop_id).player if ch.isalnum())}" for prop_id in picked)]
    seen, out = set(), []
    for tag in tags:
        tag = tag if tag.startswith("#") else f"#{tag}"
        if tag.lower() not in seen and len(tag) > 1:
            seen.add(tag.lower())
            out.append(tag)
    return out[:30]


def write_script(data: DataPackage, calendar: CalendarPlan, preset: PresetConfig, options: dict,
                 ctx: LayerContext) -> Script:
    matchup = data.matchup
    tone = _tone(options)
    variant = options.get("variant", 0)
    # A start drawn from the game's day and the variant, then the piece's place in the day's batch: the same job
    # always reads the same, a day's pieces open differently, and a variant reads differently from its job.
    start = _rng(matchup.game_time.date().isoformat(), tone, str(variant)).randrange(1000)
    slot = options.get("slot")
    slot = _rng(matchup.id).randrange(1000) if slot is None else slot
    index_of = {prop.id: i for i, prop in enumerate(matchup.props)}
    names = {"away": matchup.away.name, "home": matchup.home.name}
    segments, position, hook_line, bets_said = [], 0, "", {}
    for planned in calendar.segments:
        if planned.kind == SegmentKind.HOOK:
            headline, narration = _turn(HOOKS[tone], start, slot)
            hook_line = narration.format(away=matchup.away.full_name, home=matchup.home.full_name)
            segments.append(ScriptSegment(id=planned.id, kind=planned.kind, headline=headline,
                                          body=matchup.title, narration=narration.format(**names)))
        elif planned.kind == SegmentKind.MATCHUP:
            segments.append(_matchup_segment(planned.id, data, tone))
        elif planned.kind == SegmentKind.PROP:
            prop = matchup.prop(planned.prop_id)
            segments.append(_prop_segment(planned.id, prop, index_of[prop.id], position, tone, start + slot,
                                          bets_said))
            position += 1
        else:
            headline, body, narration = _turn(CTAS[tone], start, slot)
            segments.append(ScriptSegment(id=planned.id, kind=planned.kind, headline=headline, body=body,
                                          narration=narration))
    picks = [s for s in segments if s.kind == SegmentKind.PROP]
    hook_line = hook_line or f"{matchup.away.full_name} at {matchup.home.full_name}."
    return Script(title=f"{matchup.title} — {'props' if picks else 'preview'}",
                  caption=_post_caption(data, segments, hook_line, preset.compliance.text),
                  hashtags=_hashtags(data, preset, [s.prop_id for s in picks]), segments=segments)
