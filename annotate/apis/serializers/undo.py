"""Undo requests: the client's snapshot of what an action changed."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotate.apis.serializers.boxes import BoxUpdateSerializer
from annotate.models import ReviewState

# The same choices as the box serializer, so the schema names one ReviewStateEnum.
PREDICTION_STATES = ReviewState.choices


class BoxRestoreSerializer(serializers.Serializer):
    """The deleted box as the client last saw it."""

    box = serializers.IntegerField(source="box_id", min_value=1)
    frame_index = serializers.IntegerField(min_value=0)
    x = serializers.FloatField(min_value=0)
    y = serializers.FloatField(min_value=0)
    w = serializers.FloatField()
    h = serializers.FloatField()
    label_class = serializers.IntegerField(source="label_class_id")
    track = serializers.IntegerField(source="track_id", required=False, allow_null=True)
    score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    version = serializers.IntegerField(min_value=1, required=False)
    review_state = serializers.ChoiceField(choices=PREDICTION_STATES, required=False)


class BoxVersionSerializer(serializers.Serializer):
    """The version of the box the client holds: all that undoing a drawing or an accept needs."""

    version = serializers.IntegerField(min_value=1)


class BoxUndoEditSerializer(BoxUpdateSerializer):
    """The fields of an edit as they were before it, and the review state the prediction had. An
    undo is no action of its own, so it carries no measured seconds."""

    seconds = None  # type: ignore[assignment]  # DRF removes an inherited field set to None
    review_state = serializers.ChoiceField(choices=PREDICTION_STATES, required=False)


class AcceptedBoxSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)


class AcceptAllUndoSerializer(serializers.Serializer):
    """The accept-all to undo: its event and the boxes it accepted, at their versions now."""

    event = serializers.IntegerField(source="event_id", min_value=1)
    boxes = AcceptedBoxSerializer(many=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        versions = {row["id"]: row["version"] for row in attrs["boxes"]}
        if len(versions) != len(attrs["boxes"]):
            raise serializers.ValidationError({"boxes": "A box is listed twice."})
        return {**attrs, "boxes": versions}
