"""The text sprites the review page composites (pipeline/render/sprites.py), kept in Django's cache by name.

They are made when a plan is handed to the page, so the page's fetch finds them; one the cache has dropped is
drawn again from the job's current plan when its name still matches, and otherwise the page sets the text
itself (a preview of unsaved changes long ago, after the cache forgot it).
"""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.urls import reverse

from pipeline.contracts import RenderPlan
from pipeline.errors import PipelineError
from pipeline.render import sprites

logger = logging.getLogger(__name__)

KEEP_S = 7 * 24 * 3600


def _cache_key(key: str) -> str:
    return f"sprite:{key}"


def sprites_for(job_id, plan: RenderPlan) -> dict[str, dict]:
    """{layer id: where its sprite is served and where it goes}, drawing the ones not in the cache."""
    made = {}
    for layer in sprites.text_layers(plan):
        key = sprites.sprite_key(layer, plan)
        found = cache.get(_cache_key(key))
        if found is None:
            try:
                sprite = sprites.draw(layer, plan, key)
            except PipelineError as exc:
                # Its font is not on this machine (yet): the page sets this text itself.
                logger.warning("no sprite for %s: %s", layer.id, exc.describe())
                continue
            found = (sprite.png, sprite.x, sprite.y, sprite.width, sprite.height)
            cache.set(_cache_key(key), found, KEEP_S)
        _, x, y, width, height = found
        made[layer.id] = {"url": reverse("previews:sprite", kwargs={"job_id": job_id, "key": key}), "x": x, "y": y,
                          "width": width, "height": height}
    return made


def sprite_png(key: str, plan: RenderPlan | None) -> bytes | None:
    found = cache.get(_cache_key(key))
    if found is not None:
        return found[0]
    for layer in sprites.text_layers(plan) if plan is not None else []:
        if sprites.sprite_key(layer, plan) == key:
            sprite = sprites.draw(layer, plan, key)
            cache.set(_cache_key(key), (sprite.png, sprite.x, sprite.y, sprite.width, sprite.height), KEEP_S)
            return sprite.png
    return None
