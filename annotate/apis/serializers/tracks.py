"""Tracks."""

from __future__ import annotations

from rest_framework import serializers

from annotate.models import BoxSource


class TrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    video = serializers.IntegerField(source="video_id")
    label_class = serializers.IntegerField(source="label_class_id")
    external_id = serializers.CharField()
    source = serializers.ChoiceField(choices=BoxSource.choices)  # type: ignore[assignment]
    first_frame = serializers.IntegerField(
        allow_null=True, default=None, help_text="First frame it is boxed on."
    )
    last_frame = serializers.IntegerField(
        allow_null=True, default=None, help_text="Last frame it is boxed on."
    )
    box_count = serializers.IntegerField(default=0)


class TrackMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The track that keeps its id and receives the boxes.")


class TrackSplitSerializer(serializers.Serializer):
    frame_index = serializers.IntegerField(min_value=0, help_text="First frame of the new track.")


class TrackCreateSerializer(serializers.Serializer):
    label_class = serializers.IntegerField(source="label_class_id")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TrackUpdateSerializer(serializers.Serializer):
    label_class = serializers.IntegerField(source="label_class_id", required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
