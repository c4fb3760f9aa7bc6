"""Boxes."""

from __future__ import annotations

from rest_framework import serializers

from annotate.models import BoxSource, ReviewState


class BoxSerializer(serializers.Serializer):
    """A box; expects rows annotated with ``frame_index`` (the box selectors and services do)."""

    id = serializers.IntegerField()
    frame_index = serializers.IntegerField()
    track = serializers.IntegerField(source="track_id", allow_null=True)
    label_class = serializers.IntegerField(source="label_class_id")
    x = serializers.FloatField()
    y = serializers.FloatField()
    w = serializers.FloatField()
    h = serializers.FloatField()
    source = serializers.ChoiceField(choices=BoxSource.choices)  # type: ignore[assignment]
    generation = serializers.IntegerField(source="generation_id", allow_null=True)
    score = serializers.FloatField(allow_null=True)
    review_state = serializers.ChoiceField(choices=ReviewState.choices)
    occluded = serializers.BooleanField()
    outside = serializers.BooleanField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class BoxConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    current = BoxSerializer()


# The most boxes one listing answers (a frame window of a busy clip stays well below it).
BOX_PAGE_MAX = 5000


class BoxRangeSerializer(serializers.Serializer):
    """Query of the box listing: ``frame`` alone, or an inclusive ``frame_start``..``frame_end``."""

    frame = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    frame_start = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    frame_end = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    # Paging: at most ``limit`` boxes from ``offset``; a fuller page says where the next one starts.
    limit = serializers.IntegerField(min_value=1, max_value=BOX_PAGE_MAX, default=BOX_PAGE_MAX)
    offset = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)

    def validate(self, attrs: dict[str, int]) -> dict[str, int]:
        if "frame" in attrs:
            if "frame_start" in attrs or "frame_end" in attrs:
                raise serializers.ValidationError("Give either frame or frame_start/frame_end.")
            frame = attrs.pop("frame")
            return {**attrs, "frame_start": frame, "frame_end": frame}
        if attrs.get("frame_end", 1 << 62) < attrs.get("frame_start", 0):
            raise serializers.ValidationError({"frame_end": "frame_end must not be before frame_start."})
        return attrs


MAX_ACTION_SECONDS = 3600.0


def action_seconds() -> serializers.FloatField:
    """Optional human time of the action, as the client measured it (label-efficiency accounting)."""
    return serializers.FloatField(
        min_value=0,
        max_value=MAX_ACTION_SECONDS,
        required=False,
        help_text="Seconds of active human work on this action, measured by the client.",
    )


class BoxCreateSerializer(serializers.Serializer):
    frame_index = serializers.IntegerField(min_value=0)
    x = serializers.FloatField(min_value=0)
    y = serializers.FloatField(min_value=0)
    w = serializers.FloatField()
    h = serializers.FloatField()
    label_class = serializers.IntegerField(source="label_class_id")
    track = serializers.IntegerField(source="track_id", required=False, allow_null=True)
    seconds = action_seconds()


class BoxUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    x = serializers.FloatField(min_value=0, required=False)
    y = serializers.FloatField(min_value=0, required=False)
    w = serializers.FloatField(required=False)
    h = serializers.FloatField(required=False)
    label_class = serializers.IntegerField(source="label_class_id", required=False)
    track = serializers.IntegerField(source="track_id", required=False, allow_null=True)
    occluded = serializers.BooleanField(required=False)
    outside = serializers.BooleanField(required=False)
    seconds = action_seconds()


class BoxDeleteSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False)
    seconds = action_seconds()


class BoxPropagateSerializer(serializers.Serializer):
    frames = serializers.IntegerField(min_value=1, max_value=500, help_text="How many frames forward.")


class AcceptAboveSerializer(serializers.Serializer):
    min_score = serializers.FloatField(min_value=0, max_value=1)
    frame_start = serializers.IntegerField(min_value=0)
    frame_end = serializers.IntegerField(min_value=0)


class AcceptAboveResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    frames = serializers.IntegerField()
    finished = serializers.IntegerField()
