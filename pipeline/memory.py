"""Memory the pipeline keeps between calls, and giving it back.

The design guard, the compositor and the suggestions keep decoded pictures and measured backdrops in bounded
caches (functools.lru_cache), so adjusting a plan is cheap while a reviewer works. A web server serving a desk
fills them (about 150 MB for a desk of 30 on 8 jobs) and would keep them for ever; it calls
`release_caches` when it has been idle a while, and the next adjustment measures again.
"""
from __future__ import annotations


def _caches() -> list:
    from pipeline import design, suggestions
    from pipeline.render import compositor

    return [design._picture, design._backdrop, compositor._kept_picture, suggestions.picture_facts]


def release_caches() -> None:
    for cache in _caches():
        cache.cache_clear()
