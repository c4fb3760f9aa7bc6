"""micromodels: the pre-labeling engine. Plain data in, plain data out; no Django.

suggest_initial(clip, count) -> frames to label first
train(clip, labeled, work_dir, config) -> a per-clip detector checkpoint
prelabel(clip, labeled, checkpoint, work_dir, config) -> boxes for the other frames + suggestions
"""

from micromodels.config import PrelabelConfig, TrackerConfig, TrainConfig
from micromodels.engine import prelabel, suggest_initial, train
from micromodels.errors import Cancelled, EngineError
from micromodels.types import (
    Box,
    Checkpoint,
    Clip,
    FrameSuggestion,
    LabeledFrame,
    PrelabelResult,
    ProgressCallback,
    StopCheck,
    TrainProgress,
    TrainResult,
)

__all__ = [
    "Box",
    "Cancelled",
    "Checkpoint",
    "Clip",
    "EngineError",
    "FrameSuggestion",
    "LabeledFrame",
    "PrelabelConfig",
    "PrelabelResult",
    "ProgressCallback",
    "StopCheck",
    "TrackerConfig",
    "TrainConfig",
    "TrainProgress",
    "TrainResult",
    "prelabel",
    "suggest_initial",
    "train",
]
