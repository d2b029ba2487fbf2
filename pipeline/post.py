"""The post's text per platform, from the plan's post copy (RenderPlan.post), within each platform's limits.

Limits, from the platforms' own references: Instagram's caption is at most 2,200 characters with at most 30
hashtags (Instagram Graph API, IG User Media: `caption`); TikTok's post title/caption at most 2,200 characters
(Content Posting API, `post_info.title`); X's post at most 280 characters (X API v2, POST /2/tweets, counted as
X counts them: here by characters, which is stricter for the Latin text the desk writes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.contracts.plan import HASHTAG_CHARS, PostCopy

HASHTAG = re.compile(f"^#?([{HASHTAG_CHARS}]{{1,100}})$")


@dataclass(frozen=True)
class Platform:
    label: str
    max_chars: int
    max_hashtags: int


PLATFORMS = {
    "instagram": Platform("Instagram", 2200, 30),
    "tiktok": Platform("TikTok", 2200, 30),
    "x": Platform("X", 280, 3),
}


def parse_hashtags(text: str) -> list[str]:
    """A reviewer's hashtags, typed with or without '#', separated by spaces or commas. Raises ValueError naming
    one that is not a hashtag."""
    tags, seen = [], set()
    for word in re.split(r"[\s,]+", text.strip()):
        if not word:
            continue
        match = HASHTAG.match(word)
        if match is None:
            raise ValueError(f"“{word[:40]}” is not a hashtag: letters, digits and _ only")
        if match.group(1).lower() not in seen:
            seen.add(match.group(1).lower())
            tags.append(f"#{match.group(1)}")
    return tags


def for_platform(post: PostCopy, platform: str) -> str:
    """The caption and as many of the hashtags as the platform allows and its length leaves room for. On X the
    caption is cut to its first paragraph (the hook) and its last (the responsible-gambling line), then the hook
    is shortened at a word if it must be: the responsible-gambling line is never cut."""
    limits = PLATFORMS[platform]
    caption = post.caption.strip()
    if len(caption) > limits.max_chars:
        paragraphs = [p for p in caption.split("\n\n") if p.strip()]
        last = paragraphs[-1] if paragraphs else ""
        head = paragraphs[0] if len(paragraphs) > 1 else ""
        room = limits.max_chars - len(last) - 2
        if room < 8:
            caption = last[:limits.max_chars]
        else:
            if len(head) > room:
                head = head[:room - 1].rsplit(" ", 1)[0] + "…"
            caption = f"{head}\n\n{last}" if head else last
    tags = []
    for tag in post.hashtags[:limits.max_hashtags]:
        if len(caption) + len(" ".join([*tags, tag])) + 2 <= limits.max_chars:
            tags.append(tag)
    return f"{caption}\n\n{' '.join(tags)}".strip() if tags else caption


def texts(post: PostCopy) -> dict[str, str]:
    """Every platform's text, by platform name (what L7 delivers and the review page shows)."""
    return {name: for_platform(post, name) for name in PLATFORMS}
