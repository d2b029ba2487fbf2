"""Captions: the narration's timed words grouped into short lines, laid out once with the real font, and
written out as SRT and WebVTT beside the video.

`caption_groups` is called by the plan builder (and again when a reviewer corrects a caption's wording);
the groups it returns are final: both renderers draw them as they are (CaptionLayer in the plan).
"""
from __future__ import annotations

import copy
import functools
import re

from pipeline.contracts.plan import Box
from pipeline.text import layout, load_font

SENTENCE_END = (".", "!", "?", ";", ":", ",")
# How long a group stays up after its last word when no group follows straight away.
HOLD_S = 0.35
MIN_GROUP_S = 0.05


# Words a phrase starts with: a group that must break inside a clause breaks before one of these if it can.
PHRASE_STARTS = {"a", "an", "and", "as", "at", "but", "by", "for", "from", "he's", "his", "in", "into", "is", "of",
                 "on", "or", "over", "so", "that's", "the", "their", "to", "under", "with"}
# A card shorter than this is merged into a neighbour when both still fit (the subtitle guidance's minimum).
MIN_CARD_S = 5 / 6


def _ends_sentence(word: str) -> bool:
    """Whether a word ends a clause: its punctuation, unless it is an initial or initials ("A.J.", "St.")."""
    return word.endswith(SENTENCE_END) and not _INITIALS.match(word)


_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$|^(?:St|Jr|Sr|Mr|Dr|vs)\.$", re.IGNORECASE)


def _fits(words: list[tuple], max_words: int, max_chars: int) -> bool:
    return len(words) <= max_words and len(" ".join(w[0] for w in words)) <= max_chars


def _split_clause(clause: list[tuple], max_words: int, max_chars: int) -> list[list[tuple]]:
    """A clause in as few cards as fit, the cards as even as can be, each break before a phrase's first word
    where one is near, and no card of one word while the clause has more (a dynamic programme over where the
    cards break: any clause length)."""
    if _fits(clause, max_words, max_chars):
        return [clause]
    n = len(clause)
    chars = len(" ".join(w[0] for w in clause))
    for count in range(2, n + 1):
        least = 2 if n >= 2 * count else 1
        target = chars / count
        # best[k][i]: the least cost of the first i words as k cards, and where the k-th card began.
        best = [[None] * (n + 1) for _ in range(count + 1)]
        best[0][0] = (0.0, 0)
        for k in range(1, count + 1):
            for i in range(k * least, n + 1):
                for j in range((k - 1) * least, i - least + 1):
                    if best[k - 1][j] is None or not _fits(clause[j:i], max_words, max_chars):
                        continue
                    length = len(" ".join(w[0] for w in clause[j:i]))
                    cost = best[k - 1][j][0] + (length - target) ** 2
                    if j and clause[j][0].lower().strip(",.;:!?") not in PHRASE_STARTS:
                        cost += 60.0
                    if j and any(c.isdigit() for c in clause[j - 1][0]):
                        cost += 120.0  # "71 | PERCENT": a number stays with what it counts
                    if best[k][i] is None or cost < best[k][i][0]:
                        best[k][i] = (cost, j)
        if best[count][n] is not None:
            cards, i = [], n
            for k in range(count, 0, -1):
                j = best[k][i][1]
                cards.insert(0, clause[j:i])
                i = j
            return cards
    return [[word] for word in clause]


def group_words(words: list[tuple[str, float, float]], *, max_words: int, max_chars: int) -> list[list[tuple]]:
    """Split timed words into caption cards phrase by phrase: a clause (up to its punctuation) is one card when it
    fits, else as few even cards as fit, broken before a phrase's first word; a one-word clause that is not a
    sentence of its own joins the next; and a card on screen for less than 5/6 s joins a neighbour when the two
    still fit."""
    clauses: list[list[tuple]] = []
    current: list[tuple] = []
    for word in words:
        current.append(word)
        if _ends_sentence(word[0]):
            clauses.append(current)
            current = []
    if current:
        clauses.append(current)
    # "Brown," on its own is no card: it goes with what follows, whole when that fits, else with its first words
    # ("ANALYSIS, NOT | A GUARANTEE.", not "ANALYSIS, | NOT A GUARANTEE."): the split below keeps two words a card.
    joined: list[list[tuple]] = []
    for clause in clauses:
        if joined and len(joined[-1]) == 1 and not joined[-1][0][0].endswith((".", "!", "?")) and (
                _fits(joined[-1] + clause, max_words, max_chars)
                or (len(clause) >= 3 and _fits(joined[-1] + clause[:1], max_words, max_chars))):
            joined[-1] = joined[-1] + clause
        else:
            joined.append(clause)
    cards = [card for clause in joined for card in _split_clause(clause, max_words, max_chars)]
    # Too brief to read, or a lone word: merged with the card after it where the two fit and no sentence ends
    # between them; a lone word left over joins the card before it on the same terms.
    merged: list[list[tuple]] = []
    for card in cards:
        last = merged[-1] if merged else None
        if last and (last[-1][2] - last[0][1] < MIN_CARD_S or _lone(last)) and not _ends_sentence(last[-1][0]) \
                and _fits(last + card, max_words, max_chars):
            merged[-1] = last + card
        elif last and _lone(card) and not _ends_sentence(last[-1][0]) and _fits(last + card, max_words, max_chars):
            merged[-1] = last + card
        else:
            merged.append(card)
    return merged


def _lone(card: list[tuple]) -> bool:
    """A card of one word that is not a sentence of its own."""
    return len(card) == 1 and not card[0][0].endswith((".", "!", "?"))


def place(words: list[tuple[str, float, float]], *, font_file: str, size: float, box: Box,
          line_height: float, ascent: float) -> dict:
    """Lay a group's words out centred in the box (wrapping onto a second line when needed); each word gets its
    pen position on its line. Cached: the preset editor lays the same captions out on every edit."""
    placed = _place(tuple(tuple(word) for word in words), font_file, size, (box.x, box.y, box.width, box.height),
                    line_height)
    return copy.deepcopy(placed)


@functools.lru_cache(maxsize=4096)
def _place(words: tuple, font_file: str, size: float, area: tuple, line_height: float) -> dict:
    box = Box(x=area[0], y=area[1], width=area[2], height=area[3])
    text = " ".join(w[0] for w in words)
    # Wrapped inside the box less the highlight's padding, so a highlighted word at the end of a line stays
    # inside the box too (the padding is wider than the outline: design.highlight_box).
    pad = size * 0.14
    inner = Box(x=box.x + pad, y=box.y, width=max(1.0, box.width - 2 * pad), height=box.height)
    lines = layout(text, font_file=font_file, size=size, box=inner, align="center", valign="middle",
                   line_height=line_height)
    font = load_font(font_file, size)
    placed, index = [], 0
    for line_number, line in enumerate(lines):
        tokens = line.text.split()
        cursor = ""
        for token in tokens:
            prefix = f"{cursor} " if cursor else ""
            x = line.x + font.getlength(prefix)
            word = words[min(index, len(words) - 1)]
            placed.append({"text": token, "start": word[1], "end": word[2], "x": round(x, 2),
                           "width": round(font.getlength(token), 2), "line": line_number})
            cursor = f"{prefix}{token}"
            index += 1
    return {"lines_y": [line.y for line in lines], "words": placed}


def timed_groups(groups: list[list[tuple]], duration: float) -> list[tuple[float, float, list[tuple]]]:
    """Each group's time: from its first word to the next group's first word (or a short hold after its last
    word); each word highlighted until the next word of its group starts.

    Groups never overlap and always last a moment, whatever the word times say (an aligned voice can give
    several words the same start): a group starts no earlier than the one before it ended, and a group with
    no time left before the end of the piece is dropped."""
    timed: list[tuple[float, float, list[tuple]]] = []
    previous_end = 0.0
    for index, group in enumerate(groups):
        start = max(group[0][1], previous_end)
        if start + MIN_GROUP_S > duration:
            break
        following = groups[index + 1][0][1] if index + 1 < len(groups) else duration
        end = min(max(group[-1][2], start) + HOLD_S, max(following, start + MIN_GROUP_S), duration)
        end = max(end, start + MIN_GROUP_S)
        words = []
        for position, (text, word_start, _) in enumerate(group):
            word_start = min(max(word_start, start), end)
            following_word = group[position + 1][1] if position + 1 < len(group) else end
            words.append((text, word_start, min(max(following_word, word_start), end)))
        timed.append((start, end, words))
        previous_end = end
    return timed


def _stamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


# Subtitle files as the BBC's and Netflix's guidance asks: each cue on screen at least 5/6 s, read at no more than
# 20 characters a second, at most two lines of 42; in sentence case (the frame keeps the preset's style).
MIN_CUE_S = 5 / 6
MAX_CPS = 20.0
MAX_CUE_CHARS = 84


def _sentence_case(text: str) -> str:
    """The words as spoken; if only capitals are known (an old plan), in lower case with each sentence's first
    letter a capital."""
    if text != text.upper():
        return text
    out, start = [], True
    for word in text.lower().split():
        out.append(word[:1].upper() + word[1:] if start else word)
        start = word.endswith((".", "!", "?"))
    return " ".join(out)


def _readable(start: float, end: float, text: str) -> bool:
    return end - start >= MIN_CUE_S - 1e-6 and len(text) / max(end - start, 1e-6) <= MAX_CPS


def cues(layer) -> list[tuple[float, float, str]]:
    """(start, end, text) for the caption files: the plan's groups in sentence case, a group too short or too
    fast to read merged with the next (never dropped), then held on into the gap after it where there is one."""
    raw = [(group.start, group.end, _sentence_case(group.said or " ".join(word.text for word in group.words)))
           for group in layer.groups]
    merged: list[list] = []
    for start, end, text in raw:
        if merged and not _readable(*merged[-1]) and len(merged[-1][2]) + 1 + len(text) <= MAX_CUE_CHARS:
            merged[-1][1], merged[-1][2] = end, f"{merged[-1][2]} {text}"
        else:
            merged.append([start, end, text])
    if len(merged) > 1 and not _readable(*merged[-1]) and \
            len(merged[-2][2]) + 1 + len(merged[-1][2]) <= MAX_CUE_CHARS:
        last = merged.pop()
        merged[-1][1], merged[-1][2] = last[1], f"{merged[-1][2]} {last[2]}"
    for index, cue in enumerate(merged):
        following = merged[index + 1][0] if index + 1 < len(merged) else layer.end
        needed = max(MIN_CUE_S, len(cue[2]) / MAX_CPS)
        if cue[1] - cue[0] < needed:
            cue[1] = round(min(following, cue[0] + needed), 4)
    return [(start, end, text) for start, end, text in merged]


def slide_cues(plan) -> list[tuple[float, float, str]]:
    """(start, end, text) for a reel of slides, which has no speech: each slide's own words (its headline and
    body, not the compliance line, which the frame always carries), in sentence case, while the slide shows."""
    from pipeline.contracts.plan import TextLayer, TextRole

    made = []
    for scene in plan.scenes:
        words = " ".join(layer.text for layer in scene.layers
                         if isinstance(layer, TextLayer) and layer.role != TextRole.COMPLIANCE)
        if words.strip():
            made.append((scene.start, scene.end, _sentence_case(" ".join(words.split()))))
    return made


def srt(timed: list[tuple[float, float, str]]) -> str:
    return "\n".join(f"{index}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n"
                     for index, (start, end, text) in enumerate(timed, start=1))


def webvtt(timed: list[tuple[float, float, str]]) -> str:
    return "WEBVTT\n\n" + "\n".join(f"{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text}\n"
                                     for start, end, text in timed)
