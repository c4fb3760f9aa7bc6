"""Configuration dataclasses. Defaults are sized for one generation of a ~200-frame clip in about a
minute and a half on two CPU cores; nothing here reads settings or the environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    # Local .pt file to start from; used only when the file exists, otherwise training is from scratch.
    base_weights: str | None = None
    model: str = "yolo11n.yaml"  # architecture built from scratch (no download) when no base weights
    epochs: int = 300
    time_budget_seconds: float | None = 45.0  # the platform's default (ANNOTATE_TRAIN_TIME_BUDGET)
    imgsz: int = 320
    batch: int = 8
    seed: int = 0
    device: str = "auto"  # "auto" = cuda:0 when available, else cpu; or "cpu", "cuda:0", ...
    workers: int = 0
    # Each labeled frame appears this many times per epoch so an epoch has enough steps to matter.
    repeats: int = 8
    # Pseudo-labels: add frames whose boxes the tracker propagated with high confidence. Off by default:
    # measured with YOLO on CPU budgets, the extra frames cost optimiser steps and the detector came out
    # worse (docs/benchmarks.md); not yet measured with ClipNet.
    pseudo_labels: bool = False
    pseudo_min_score: float = 0.75
    pseudo_max_frames: int = 40
    # Augmentation suited to overfitting one scene: strong geometry and colour, mosaic.
    mosaic: float = 1.0
    scale: float = 0.5
    translate: float = 0.2
    degrees: float = 0.0
    fliplr: float = 0.5
    hsv_h: float = 0.015
    hsv_s: float = 0.6
    hsv_v: float = 0.4
    mixup: float = 0.0
    warmup_epochs: float = 1.0
    # Which detector: "clipnet" (small per-clip network trained from scratch on crops, the CPU path),
    # "yolo" (ultralytics), or "auto" = yolo when base weights are a YOLO file or a GPU is there, else
    # clipnet (a from-scratch YOLO learns nothing within a CPU generation: docs/benchmarks.md).
    detector: str = "auto"
    # ClipNet. Frames are resized so the median labeled object is about this many pixels across
    # (geometric mean of w and h): larger sees more detail, costs quadratically more per step.
    clipnet_object_side: float = 32.0
    clipnet_min_scale: float = 0.1  # never shrink frames more than this (huge objects)
    clipnet_max_scale: float = 2.0  # never enlarge more than this (tiny objects: blur, slow)
    # Frames are never run through ClipNet larger than this many pixels (640x480 x 1.6: about 0.1 s a
    # frame on one CPU core); more keeps small objects larger, costs pre-labeling time linearly.
    clipnet_max_input_pixels: int = 500_000
    # A warm start keeps the previous generation's working scale unless the objects' size changed by
    # more than this factor (keeping it: the weights fit; changing it: new labels of another size fit).
    clipnet_keep_scale: float = 1.5
    clipnet_width: int = 32  # channels at stride 4 (2x deeper); more = capacity, slower steps
    clipnet_crop: int = 128  # training crop side at the working scale: ~4 objects across
    clipnet_batch: int = 16  # crops per step
    clipnet_lr: float = 3e-3  # AdamW peak learning rate (cosine decay over the budget)
    clipnet_max_steps: int = 4000  # upper bound when there is no time budget, or it is generous
    clipnet_steps_per_epoch: int = 100  # progress and cancel checks every this many steps
    clipnet_object_crops: float = 0.6  # share of crops centred near an object (rest: anywhere)
    clipnet_scale_jitter: float = 1.4  # crops are rescaled by up to this factor either way
    clipnet_colour: float = 0.25  # per-channel gain +-this, brightness +-60x this
    # torch CPU threads for ClipNet. 1 is robust on a shared CPU (a spinning 2-thread pool ran ~5x
    # slower under contention, measured); more is faster on an idle multi-core machine.
    cpu_threads: int = 1


@dataclass(frozen=True)
class TrackerConfig:
    max_side: int = 480  # frames are tracked at this size at most (speed); boxes are mapped back
    grid_points: int = 10  # points per side of the grid seeded inside the box
    fb_error_max: float = 2.0  # forward-backward error (pixels at tracking size) for a point to count
    search_scale: float = 2.0  # NCC re-detection window, in box sizes around the predicted box
    scale_step: float = 0.04  # relative size change tried by template matching each frame
    motion_penalty: float = 0.5  # NCC lost per squared box-size offset from the flow prediction
    template_update: float = 0.1  # how fast the appearance template follows the object
    min_confidence: float = 0.2  # below this the track is considered lost
    max_scale_change: float = 1.25  # one frame's flow may change the box size at most this factor
    scale_damping: float = 0.5  # share of the flow's size change applied (noisy single-frame scale)
    flow_search_share: float = 0.25  # search window (share of search_scale) when the flow succeeded
    template_update_min_confidence: float = 0.6  # the running template learns only from boxes this sure
    lost_inside: float = 0.3  # a box with less of itself inside the image has left it (lost)
    full_inside: float = 0.7  # confidence is scaled down for boxes less inside the image than this
    # Linking boxes without ids across labeled frames, and combining the two passes (propagation.py).
    link_iou: float = 0.3  # a pass's end box must overlap the labeled box this much to carry its id
    meet_iou: float = 0.5  # ...or the forward and backward passes must overlap this much on a frame
    link_distance: float = 1.0  # ...or end this close (centre distance in box sizes)
    # Weight of two labeled boxes' colour likeness (0..1) beside the passes' overlap when linking them
    # (higher: ids follow looks, robust to crossings; lower: follow the tracker, robust to look-alikes).
    link_appearance_weight: float = 1.0
    # Detector chains (chains.py): linking labeled boxes by the cheapest chain of detections between.
    chain_min_score: float = 0.3  # detections this confident (raw score) may carry a chain (lower: more
    # frames covered, more false boxes to step on)
    chain_max_skip: int = 3  # frames in a row a chain may go without a detection (occlusion, misses)
    # Cost of each frame without one: as much as the worst detection (score 0, no likeness), so a chain
    # never skips a detection that fits where the object moves.
    chain_miss_cost: float = 2.0
    chain_place_sigma: float = 0.1  # a detection's centre error, in box sizes (localisation noise)
    chain_extent_sigma: float = 0.1  # a detection's error of log width or height
    # Departure from steady motion (the labeled boxes' own) per frame: random walk of the centre in
    # box sizes, and of log width and height (higher: tolerates turns and stops, and more switches).
    chain_motion_sigma: float = 0.05
    chain_resize_sigma: float = 0.03
    chain_score_weight: float = 1.0  # cost of a detection's doubt (1 - score) on the chain
    chain_look_weight: float = 1.0  # cost of a detection's colour unlikeness to the two labeled boxes
    # A track that ends or starts in a gap follows detections whose motion cost from its last one is at
    # most this (9: three standard deviations; higher: follows faster turns, and jumps to neighbours).
    chain_gate: float = 9.0
    # A pair of labeled boxes whose best chain costs more than this per frame is not linked by it:
    # the cost of a frame without a detection, i.e. no better than a chain of nothing (higher: more
    # links, more wrong ones; lower: more tracks end and start in the gap).
    chain_max_cost: float = 2.0
    # The detector has a say about an object only where it showed it sees it: a detection (raw score
    # >= chain_min_score) overlapping the object's labeled box next to the gap this much. Otherwise its
    # silence neither ends, starts nor parts that track, and the tracker alone carries it (lower:
    # trusts weaker detectors, more tracks cut short; higher: more tracks left to the tracker).
    confirm_iou: float = 0.5
    duplicate_iou: float = 0.5  # a one-sided candidate overlapping a kept one this much is the same object
    mix_iou: float = 0.3  # forward and backward boxes overlapping this much are averaged, else compared
    reliable_end_iou: float = 0.7  # a pass reproducing the far labeled box this well is fully trusted


@dataclass(frozen=True)
class PrelabelConfig:
    imgsz: int = 320
    batch: int = 8
    device: str = "auto"
    detector_conf: float = 0.05  # keep low: fusion and calibration decide what is shown
    nms_iou: float = 0.6
    # The detector's own boxes (PrelabelResult.detector_boxes) at this calibrated score or more:
    # lower finds more objects alone, with more false boxes in the "model alone" figure.
    detector_min_score: float = 0.3
    # Detector calibration uses frames where every track is two-sided with passes agreeing at this
    # IoU and tracker confidence this high (stricter: cleaner stand-in truth, fewer samples).
    calibration_agreement: float = 0.5
    calibration_confidence: float = 0.4
    clipnet_max_detections: int = 100  # peaks decoded per frame, before the score threshold
    cpu_threads: int = 1  # torch CPU threads for ClipNet inference (see TrainConfig.cpu_threads)
    tracker: TrackerConfig = TrackerConfig()
    # Fusion.
    match_iou: float = 0.3  # a detection belongs to a track box at this IoU or more (lower: more
    # drift corrected, more risk of pulling a box onto a neighbour)
    full_support_iou: float = 0.7  # a detection overlapping this much backs a box fully (less: partly)
    confirm_score: float = 0.5  # a detection this confident pulls the tracker's box onto itself
    detector_pull: float = 0.5  # weight of a backing detection against the tracker's confidence when
    # averaging boxes (higher: extents follow the detector; lower: the tracker's smoother boxes)
    tracker_weight: float = 0.5  # how much the tracker's own weight counts when choosing a hypothesis
    interpolation_weight: float = 0.0  # the interpolated box as a hypothesis (weight vs tracker options)
    # The detector chain's box of a linked track as a hypothesis, weighed against all the tracker's
    # options together (higher: boxes follow the detections that linked the track; lower: the tracker).
    chain_weight: float = 1.0
    # ...unless the forward and backward passes overlap at least this much on a box on the chain's
    # object: the tracker is sure there and the detection only pulls its box (higher: the chain
    # replaces more tracker boxes, better where the tracker drifts; lower: fewer, better where
    # the detector localises worse than a tracker sure from both sides).
    chain_defer_agreement: float = 0.5
    interpolate_below: float = 0.3  # tracker confidence under which an unbacked box is interpolated
    # Forward and backward passes overlapping less than this, with no detection backing either: the
    # tracker lost the object somewhere in the gap, and the interpolation is the safer guess.
    interpolate_disagreement: float = 0.3
    one_sided_min_confidence: float = 0.2  # a one-sided, unbacked track below this has ended
    # A one-sided track the detector backed ends after this many frames in a row it does not back
    # (fewer: tracks end sooner after a detector miss; more: boxes linger after the object left).
    end_after_unbacked: int = 3
    duplicate_iou: float = 0.6  # two output boxes overlapping more are one object: one is dropped
    link_iou: float = 0.3  # detections on consecutive frames overlapping this much are one object
    link_max_gap: int = 2  # frames a detector-only track may miss and still continue
    new_track_score: float = 0.6  # mean detector score for a detector-only track to be shown
    new_track_min_length: int = 5  # frames a detector-only track needs (shorter: flicker, false alarms)
    # Detector-only boxes below this calibrated score are dropped. Boxes of a human track are kept at any
    # score: the track is known to exist (fusion already drops one-sided tracks that fade out), and a
    # low-scored box is cheaper to fix than a missing one is to add.
    min_output_score: float = 0.25
    # Suggestions.
    suggestion_spacing: int = 3  # suggested frames stay at least this far from each other and labels
