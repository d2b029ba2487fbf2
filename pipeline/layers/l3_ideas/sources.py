"""Tracing a script's numbers back to the L1 data."""
from __future__ import annotations

import re

from pipeline.contracts import DataPackage, Script
from pipeline.contracts.l3 import numbers_in
from pipeline.errors import ScriptError

_PATH = re.compile(r"\.([a-z_0-9]+)|\[(\d+)\]")


def resolve(data: DataPackage, field: str):
    """The value at a path like matchup.props[2].line in the L1 data; KeyError/IndexError when absent."""
    head, _, rest = field.partition(".")
    value = data.model_dump()[head]
    for name, index in _PATH.findall("." + rest):
        value = value[int(index)] if index else value[name]
    return value


def check_sources(script: Script, data: DataPackage) -> None:
    """Every figure must match its L1 field, and every number spoken must be one of the figures."""
    for segment in script.segments:
        for figure in segment.figures:
            try:
                actual = resolve(data, figure.field)
            except (KeyError, IndexError, TypeError):
                raise ScriptError(f"segment {segment.id} cites {figure.field}, which the data does not have",
                                  layer="L3", field=figure.field) from None
            if not isinstance(actual, int | float) or abs(float(actual) - figure.value) > 1e-9:
                raise ScriptError(f"segment {segment.id} shows {figure.text} for {figure.field}, but the data "
                                  f"says {actual}", layer="L3", field=figure.field)
        cited = {f.text.lstrip("+") for f in segment.figures}
        for number in numbers_in(segment.narration):
            if number not in cited:
                raise ScriptError(f"segment {segment.id} speaks the number {number}, which has no source in the "
                                  "data", layer="L3", field=f"segments.{segment.id}.narration")
