"""Serializers of accepting predictions (annotate.apis.corrections)."""

from __future__ import annotations

from rest_framework import serializers

from annotate.apis.serializers.boxes import BoxSerializer, action_seconds


class AcceptSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    seconds = action_seconds()


class AcceptAllSerializer(serializers.Serializer):
    seconds = action_seconds()


class AcceptAllResultSerializer(serializers.Serializer):
    frame_index = serializers.IntegerField()
    accepted = serializers.IntegerField()
    event = serializers.IntegerField(allow_null=True, help_text="The accept event; undo it with this id.")
    boxes = BoxSerializer(many=True, help_text="The boxes accepted, as they are now.")
