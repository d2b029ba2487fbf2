"""pydantic v2 models for every layer boundary. Each layer's output is one of these."""
from pipeline.contracts.adjustments import Adjustments
from pipeline.contracts.base import ContentKind, Contract, Sport
from pipeline.contracts.job import JobInputs
from pipeline.contracts.l1 import DataPackage, Matchup, PlayerProp, Prediction, Slate, Team
from pipeline.contracts.l2 import CalendarPlan, SegmentKind, SegmentPlan
from pipeline.contracts.l3 import Figure, Script, ScriptSegment
from pipeline.contracts.l4 import AudioPackage, SegmentTiming, WordTiming
from pipeline.contracts.l5 import AssetRole, MediaAsset, MediaPackage
from pipeline.contracts.l6 import OutputFile, RenderResult
from pipeline.contracts.l7 import DistributionResult
from pipeline.contracts.plan import RenderPlan, Scene, TextLayer
from pipeline.contracts.preset import PresetConfig

__all__ = [
    "Adjustments", "AssetRole", "AudioPackage", "CalendarPlan", "ContentKind", "Contract", "DataPackage", "Prediction",
    "DistributionResult", "Figure", "JobInputs", "Matchup", "MediaAsset", "MediaPackage", "OutputFile",
    "PlayerProp", "PresetConfig", "RenderPlan", "RenderResult", "Scene", "Script", "ScriptSegment",
    "SegmentKind", "SegmentPlan", "SegmentTiming", "Slate", "Sport", "Team", "TextLayer", "WordTiming",
]
