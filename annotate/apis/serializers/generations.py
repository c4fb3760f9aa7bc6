"""Serializers of generations (training runs), the models a clip can start from, and suggestions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotate.models import Generation, GenerationPhase, JobStatus


class GenerationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    video = serializers.IntegerField(source="video_id")
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    phase = serializers.ChoiceField(choices=GenerationPhase.choices, allow_blank=True)
    active = serializers.SerializerMethodField()
    epoch = serializers.IntegerField()
    epochs_total = serializers.IntegerField()
    eta_seconds = serializers.FloatField(allow_null=True)
    base_weights = serializers.CharField(help_text='"from scratch" or the weights training started from.')
    base_weights_sha256 = serializers.CharField(help_text="the pinned hash of the base weights, when known")
    model = serializers.CharField(help_text="which model ran and from what, in words")
    live_figures = serializers.DictField(help_text="recall/precision on the frames people finished after it")
    trained_frames = serializers.ListField(child=serializers.IntegerField())
    metrics = serializers.DictField()
    loss_history = serializers.ListField(child=serializers.DictField())
    checkpoint_sha256 = serializers.CharField()
    train_seconds = serializers.FloatField(allow_null=True)
    prelabel_seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    attempts = serializers.IntegerField()
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    transferred_from = serializers.SerializerMethodField(
        help_text="generation 0 of a clip started from another clip's model: that generation"
    )

    def get_active(self, generation: Generation) -> bool:
        return bool(generation.video.active_generation_id == generation.id)

    def get_transferred_from(self, generation: Generation) -> dict[str, Any] | None:
        source = generation.transferred_from
        if source is None:
            return None
        return {
            "id": source.id,
            "number": source.number,
            "video": source.video_id,
            "video_name": source.video.name,
        }


class ProjectModelSerializer(serializers.Serializer):
    """A trained generation another clip of the project can start from."""

    id = serializers.IntegerField()
    number = serializers.IntegerField()
    video = serializers.IntegerField(source="video_id")
    video_name = serializers.CharField(source="video.name")
    model = serializers.CharField()
    trained_frames = serializers.ListField(child=serializers.IntegerField())
    finished_at = serializers.DateTimeField(allow_null=True)


class SuggestionSerializer(serializers.Serializer):
    frame_index = serializers.IntegerField()
    reason = serializers.CharField()
    score = serializers.FloatField()
    rank = serializers.IntegerField()
    generation = serializers.SerializerMethodField()

    def get_generation(self, suggestion: Any) -> int | None:
        """The generation's number; null for the diversity pick made before any model."""
        return suggestion.generation.number if suggestion.generation_id else None


class SuggestionQuerySerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=100, required=False)
