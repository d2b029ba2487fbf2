"""The real pipeline: L1..L5, the plan, then L6 and L7 after review."""
from pipeline.contracts import (
    AudioPackage,
    CalendarPlan,
    DataPackage,
    DistributionResult,
    MediaPackage,
    RenderResult,
    Script,
)
from pipeline.registry import LayerSpec, Pipeline


def default_pipeline() -> Pipeline:
    from pipeline import plan
    from pipeline.layers import l1_data, l2_calendar, l3_ideas, l4_audio, l5_media, l6_assembly, l7_distribution

    return Pipeline(
        layers=(
            # A layer's version changes with what its output carries, so a cached output made by older code is
            # not reused: L1 3 (each prop's last games), L3 6 (phrasings in turn, the post's caption and
            # hashtags, a bet said once in full, the tags of the players in the piece only), L4 4 (carousels and
            # stills timed, not narrated), L5 3 (the arena art and the teams' crests).
            LayerSpec("L1", "data", l1_data.run, DataPackage, config_keys=("providers.data",), version="3",
                      cache_ttl_s=300),
            LayerSpec("L2", "calendar", l2_calendar.run, CalendarPlan, needs=("L1",),
                      config_keys=("format.kind", "segments"), version="1", cache_ttl_s=3600),
            LayerSpec("L3", "ideas", l3_ideas.run, Script, needs=("L1", "L2"),
                      config_keys=("providers.ideas", "hashtags", "compliance.text"), version="6",
                      uses_variant=True),
            LayerSpec("L4", "audio", l4_audio.run, AudioPackage, needs=("L2", "L3"),
                      config_keys=("providers.audio", "voice", "format.kind", "format.slide_seconds",
                                   "format.carousel_reel"), version="4"),
            LayerSpec("L5", "media", l5_media.run, MediaPackage, needs=("L1", "L3"),
                      config_keys=("providers.media", "format", "brand.logo", "brand.references",
                                   "brand.team_logos"), version="3",
                      uses_variant=True),
            LayerSpec("L6", "assembly", l6_assembly.run, RenderResult, cacheable=False, timeout_s=1800,
                      help=l6_assembly.help, ahead=l6_assembly.render_ahead),
            LayerSpec("L7", "distribution", l7_distribution.run, DistributionResult, needs=("L6",),
                      config_keys=("providers.distribution",), cacheable=False,
                      applies=l7_distribution.applies,
                      skipped_because="no destination: the preset names none, so the files stay in the studio"),
        ),
        review_after="L5",
        build_plan=plan.build_plan,
        plan_needs=plan.PLAN_NEEDS,
    )
