"""L3 ideas: the script. Whatever wrote it, every number in it must be traced to the L1 data."""
from __future__ import annotations

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, DataPackage, Script
from pipeline.errors import ConfigurationError
from pipeline.layers.l3_ideas import llm, template
from pipeline.layers.l3_ideas.sources import check_sources
from pipeline.registry import LayerInput

PROVIDERS = {"template": template.write_script, "llm": llm.write_script}


def run(inputs: LayerInput, ctx: LayerContext) -> Script:
    choice = inputs.preset.providers.ideas
    try:
        writer = PROVIDERS[choice.name]
    except KeyError:
        raise ConfigurationError(f"unknown ideas provider {choice.name!r} (known: {', '.join(PROVIDERS)})",
                                 layer="L3", field="providers.ideas.name") from None
    data: DataPackage = inputs.upstream["L1"]
    calendar: CalendarPlan = inputs.upstream["L2"]
    ctx.progress(0.1, f"writing with {choice.name}")
    script = writer(data, calendar, inputs.preset, {**choice.options, "variant": inputs.job.variant,
                                                          "slot": inputs.job.slot}, ctx)
    check_sources(script, data)
    return script
