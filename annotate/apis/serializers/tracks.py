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


class TrackCreateSerializer(serializers.Serializer):
    label_class = serializers.IntegerField(source="label_class_id")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TrackUpdateSerializer(serializers.Serializer):
    label_class = serializers.IntegerField(source="label_class_id", required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
