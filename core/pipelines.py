"""The pipeline in force: the layers jobs run (settings.PIPELINE["FACTORY"], pipeline.layers.default_pipeline as
shipped; tests point it at small pipelines of their own), loaded once per factory."""
from __future__ import annotations

import functools

from django.conf import settings

from pipeline import registry
from pipeline.registry import Pipeline


@functools.cache
def _load(dotted: str) -> Pipeline:
    return registry.load(dotted)


def current_pipeline() -> Pipeline:
    return _load(settings.PIPELINE["FACTORY"])
