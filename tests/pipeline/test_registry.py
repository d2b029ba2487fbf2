"""The pipeline's wiring is declared once, in the registry: what the plan needs, which layer renders, what runs
next; a pipeline that wires these wrongly is refused when it is made."""
import pytest

from pipeline.contracts import PresetConfig
from pipeline.layers import default_pipeline
from pipeline.registry import Pipeline
from tests.pipelines import tiny_pipeline, with_delivery


def test_the_real_pipeline_declares_its_wiring():
    pipeline = default_pipeline()
    assert pipeline.render_layer == "L6" and [s.name for s in pipeline.review_layers] == ["L1", "L2", "L3", "L4", "L5"]
    assert pipeline.plan_inputs() == ("L1", "L3", "L4", "L5")


def test_the_next_unfinished_layer_skips_what_does_not_apply():
    pipeline = with_delivery()
    without_destination = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920}})
    assert pipeline.next_unfinished({"L1", "L2"}, without_destination) == "L3"
    assert pipeline.next_unfinished({"L1", "L2", "L3", "L6"}, without_destination) is None  # L7 has no destination


@pytest.mark.parametrize("change, says", [({"plan_needs": ("L6",)}, "does not run before review"),
                                          ({"review_after": "L6"}, "no layer follows review")])
def test_wrong_wiring_is_refused(change, says):
    base = tiny_pipeline()
    with pytest.raises(ValueError, match=says):
        Pipeline(**{"layers": base.layers, "review_after": base.review_after, "build_plan": base.build_plan, **change})
