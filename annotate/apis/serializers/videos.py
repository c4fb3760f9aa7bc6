"""Clips and their frames."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from rest_framework import serializers

from annotate.apis.serializers.progress import eta_seconds
from annotate.models import Video, VideoStatus


class VideoCountsSerializer(serializers.Serializer):
    frames = serializers.IntegerField(source="count_frames")
    labeled_frames = serializers.IntegerField(
        source="count_finished_frames", help_text="the finished frames, the ones the model trains on"
    )
    finished_frames = serializers.IntegerField(
        source="count_finished_frames", help_text="frames people finished: what exports write by default"
    )
    prelabeled_frames = serializers.IntegerField(source="count_prelabeled_frames")
    accepted_boxes = serializers.IntegerField(source="count_accepted_boxes")
    boxes = serializers.IntegerField(source="count_boxes")


class VideoSerializer(serializers.Serializer):
    """A clip; expects a row from the video selectors (with ``count_*`` annotations)."""

    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    name = serializers.CharField()
    source = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The file or folder name the clip came from (never a server path)."
    )
    status = serializers.ChoiceField(choices=VideoStatus.choices)
    error = serializers.CharField()
    fps = serializers.FloatField(allow_null=True)
    frame_count = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    frames_done = serializers.IntegerField()
    frames_total = serializers.IntegerField()
    progress = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField(
        help_text="while ingesting: seconds left, at the rate so far"
    )
    active_generation = serializers.IntegerField(source="active_generation_id", allow_null=True)
    counts = VideoCountsSerializer(source="*")
    created_at = serializers.DateTimeField()

    def get_source(self, video: Video) -> str:
        # A server import stores its absolute path; the API shows only the last part of it.
        return PurePath(video.source.replace("\\", "/")).name

    def get_progress(self, video: Video) -> float:
        if video.status == VideoStatus.READY:
            return 1.0
        if not video.frames_total:
            return 0.0
        return min(1.0, video.frames_done / video.frames_total)

    def get_eta_seconds(self, video: Video) -> float | None:
        if video.status != VideoStatus.INGESTING:
            return None
        started, done = video.ingest_started_at, video.frames_done
        return eta_seconds(started_at=started, done=done, total=video.frames_total)


class VideoUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    sample_fps = serializers.FloatField(min_value=0.001, required=False)
    max_width = serializers.IntegerField(min_value=16, required=False)

    def validate_name(self, value: str) -> str | None:
        return value or None


class FrameRangeSerializer(serializers.Serializer):
    """Query of the frame listing: inclusive index range, then optional limit/offset."""

    start = serializers.IntegerField(min_value=0, required=False)
    end = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    offset = serializers.IntegerField(min_value=0, required=False, default=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "start" in attrs and "end" in attrs and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "end must not be before start."})
        return attrs


class FrameSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    timestamp = serializers.FloatField()
    image_url = serializers.SerializerMethodField()
    human_boxes = serializers.IntegerField(help_text="Number of human boxes on the frame.")
    model_boxes = serializers.IntegerField(help_text="Number of model predictions on the frame.")
    pending_boxes = serializers.IntegerField(help_text="Predictions on the frame nobody decided yet.")
    lowest_pending_score = serializers.FloatField(
        allow_null=True, help_text="The lowest score among them (the review pass's next low-score frame)."
    )
    touched = serializers.SerializerMethodField()
    finished = serializers.SerializerMethodField(
        help_text="Every box on the frame decided, or the frame marked done (docs/glossary.md)."
    )

    def get_image_url(self, frame: Any) -> str:
        return f"{self.context['image_url_prefix']}{frame.index}/image"

    def get_touched(self, frame: Any) -> bool:
        return frame.touched_at is not None

    def get_finished(self, frame: Any) -> bool:
        return frame.reviewed_at is not None


class FrameSummarySerializer(serializers.Serializer):
    """A clip's frames by state, counted on the server, and the distance to the next automatic run."""

    frames = serializers.IntegerField()
    finished = serializers.IntegerField()
    prelabeled = serializers.IntegerField(help_text="Not finished, with predictions nobody decided yet.")
    human = serializers.IntegerField(help_text="Frames with at least one human box.")
    finished_since_last_generation = serializers.IntegerField()
    frames_until_next_generation = serializers.IntegerField()
    auto_train = serializers.BooleanField()
    auto_train_after_frames = serializers.IntegerField()
