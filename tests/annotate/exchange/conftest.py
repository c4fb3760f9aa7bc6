"""Clips with known boxes for the exchange tests: fixtures/make_clips pictures stored as frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from annotate.exchange.sources import ImportLimits
from annotate.models import Box, BoxSource, Frame, LabelClass, Project, ReviewState, Track, Video, VideoStatus
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import ClipTruth, make_clip

ClipMaker = Callable[..., tuple[Video, ClipTruth]]

# The import limits a reader test opens its files with (the service's defaults, see config/settings.py).
LIMITS = ImportLimits(
    entries=200_000, uncompressed_bytes=4 * 1024**3, label_bytes=512 * 1024**2, zip_ratio=100
)


def ingest_path(project: Project, path: Path, **options: object) -> Video:
    """A clip ingested in-process from a server path (inside the import roots), ready."""
    video = video_create_from_path(project=project, path=path, **options)  # type: ignore[arg-type]
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.error
    return video


@pytest.fixture
def make_video(tmp_path: Path) -> ClipMaker:
    """``make_video(project, frames=6, labeled=True, ...)``: a ready clip whose frames are the
    generated pictures; with ``labeled`` every truth box is a human box on a track per object."""
    made = 0

    def build(
        project: Project,
        *,
        frames: int = 6,
        width: int = 128,
        height: int = 96,
        objects: int = 2,
        seed: int = 0,
        labeled: bool = True,
        name: str | None = None,
    ) -> tuple[Video, ClipTruth]:
        nonlocal made
        made += 1
        out = tmp_path / f"clip{made}"
        truth = make_clip(
            out, frames=frames, width=width, height=height, objects=objects, seed=seed, video=False
        )
        video = Video.objects.create(
            project=project,
            name=name or f"clip {made}",
            source="generated",
            status=VideoStatus.READY,
            fps=truth.fps,
            frame_count=frames,
            width=width,
            height=height,
        )
        rows = []
        for index in range(frames):
            data = (out / "frames" / f"{index:06d}.png").read_bytes()
            stored = default_storage.save(f"frames/{video.id}/{index:06d}.png", ContentFile(data))
            rows.append(
                Frame(video=video, index=index, timestamp=index / truth.fps, image=stored, sha256="0" * 64)
            )
        Frame.objects.bulk_create(rows)
        if labeled:
            label_human_truth(video, truth)
        return video, truth

    return build


def label_human_truth(video: Video, truth: ClipTruth) -> None:
    classes = {c.name: c for c in LabelClass.objects.filter(project=video.project)}
    frames = {f.index: f for f in Frame.objects.filter(video=video)}
    tracks: dict[int, Track] = {}
    boxes = []
    for index, frame_boxes in enumerate(truth.frames):
        for b in frame_boxes:
            if b.track_id not in tracks:
                tracks[b.track_id] = Track.objects.create(video=video, label_class=classes[b.label])
            boxes.append(
                Box(
                    frame=frames[index],
                    track=tracks[b.track_id],
                    label_class=classes[b.label],
                    x=b.x,
                    y=b.y,
                    w=b.w,
                    h=b.h,
                )
            )
    Box.objects.bulk_create(boxes)
    # Every object on every frame is boxed: people finished these frames (what exports write by default).
    Frame.objects.filter(video=video).update(reviewed_at=timezone.now())


def add_prediction(
    frame: Frame, label_class: LabelClass, *, score: float, state: str = ReviewState.PENDING
) -> Box:
    return Box.objects.create(
        frame=frame,
        label_class=label_class,
        x=3,
        y=4,
        w=20,
        h=10,
        source=BoxSource.MODEL,
        score=score,
        review_state=state,
    )


def box_summary(video: Video) -> list[tuple[int, str, float, float, float, float, str, str]]:
    """Every box of a clip as (frame, class, x, y, w, h, source, track group); track groups are
    named by the first box of each track, so two clips with the same partition compare equal."""
    rows = list(
        Box.objects.filter(frame__video=video)
        .order_by("frame__index", "x", "y", "id")
        .values_list("frame__index", "label_class__name", "x", "y", "w", "h", "source", "track_id")
    )
    names: dict[int | None, str] = {None: "-"}
    out = []
    for index, label, x, y, w, h, source, track in rows:
        if track not in names:
            names[track] = f"t{len(names)}"
        out.append((index, label, round(x, 3), round(y, 3), round(w, 3), round(h, 3), source, names[track]))
    return out
