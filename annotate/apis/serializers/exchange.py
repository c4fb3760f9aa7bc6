"""Serializers of exports and label imports (annotate.apis.exchange)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from annotate.apis.serializers.progress import eta_seconds
from annotate.exchange.rows import FrameSet
from annotate.models import ExportFormat, ExportJob, ImportFormat, ImportJob, ImportMode, JobStatus


def _job_eta(job: ExportJob | ImportJob) -> float | None:
    if job.status != JobStatus.RUNNING:
        return None
    return eta_seconds(started_at=job.started_at, done=job.items_done, total=job.items_total)


class ExportCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    video = serializers.IntegerField(required=False, allow_null=True)
    include_predictions = serializers.BooleanField(required=False, default=False)
    min_score = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    frames = serializers.ChoiceField(
        choices=FrameSet.CHOICES,
        required=False,
        help_text="reviewed (frames people finished; the default), labeled (also frames with a box that "
        "leaves), all (unlabeled frames become negatives)",
    )
    reviewed_only = serializers.BooleanField(
        required=False, help_text="older spelling: true = reviewed, false = all"
    )
    with_images = serializers.BooleanField(required=False, default=False)
    split = serializers.ChoiceField(choices=["clip", "frame"], required=False, default="clip")
    val_fraction = serializers.FloatField(required=False, default=0.2, min_value=0, max_value=0.99)
    test_fraction = serializers.FloatField(required=False, default=0.0, min_value=0, max_value=0.99)
    seed = serializers.IntegerField(required=False, default=0)
    classes = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="redact: the class names whose boxes are hidden on every frame",
    )
    # The metaclass takes declared fields off the class, so this does not shadow Field.style.
    style = serializers.ChoiceField(choices=["blur", "pixelate"], required=False, help_text="redact")  # type: ignore[assignment]
    block = serializers.IntegerField(
        required=False, min_value=2, max_value=256, help_text="redact: pixel block / smallest blur kernel"
    )


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    video = serializers.IntegerField(source="video_id", allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    options = serializers.DictField()
    items_done = serializers.IntegerField()
    items_total = serializers.IntegerField()
    box_count = serializers.IntegerField()
    eta_seconds = serializers.SerializerMethodField(
        help_text="while running: seconds left, at the rate so far"
    )
    error = serializers.CharField()
    download_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != JobStatus.SUCCEEDED or not job.file:
            return None
        url = reverse("api:export-download", args=[job.id])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_eta_seconds(self, job: ExportJob) -> float | None:
        return _job_eta(job)


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=ImportFormat.choices)
    as_predictions = serializers.BooleanField(required=False, default=False)
    create_classes = serializers.BooleanField(required=False, default=False)
    mode = serializers.ChoiceField(choices=ImportMode.choices, required=False, default=ImportMode.APPEND)
    first_frame = serializers.ChoiceField(choices=[0, 1], required=False, allow_null=True, default=None)
    allow_duplicate = serializers.BooleanField(required=False, default=False)
    default_class = serializers.CharField(required=False, allow_null=True, default=None, max_length=100)
    dry_run = serializers.BooleanField(required=False, default=False)


class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    video = serializers.IntegerField(source="video_id")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    format = serializers.ChoiceField(choices=ImportFormat.choices)
    options = serializers.DictField()
    dry_run = serializers.BooleanField()
    file_name = serializers.CharField()
    items_done = serializers.IntegerField()
    items_total = serializers.IntegerField()
    eta_seconds = serializers.SerializerMethodField(
        help_text="while running: seconds left, at the rate so far"
    )
    result = serializers.DictField(help_text="counts of the import (of a dry run: what it would write)")
    problems = serializers.ListField(child=serializers.CharField(), help_text="every problem of a refusal")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_eta_seconds(self, job: ImportJob) -> float | None:
        return _job_eta(job)
