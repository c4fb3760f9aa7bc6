"""Django admin: a window onto the rows for operators. Labels are edited in the app, so boxes,
frames, generations and correction events are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from annotate import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable and deletable, never edited by hand: these rows are written by services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LabelClassInline(admin.TabularInline):
    model = models.LabelClass
    extra = 0


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "auto_train", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [LabelClassInline, MembershipInline]


@admin.register(models.Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "status", "frame_count", "width", "height", "fps", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "source"]
    readonly_fields = [
        "source",
        "source_file",
        "status",
        "error",
        "fps",
        "frame_count",
        "width",
        "height",
        "frames_done",
        "frames_total",
        "ingest_started_at",
        "ingest_finished_at",
        "active_generation",
    ]


@admin.register(models.Frame)
class FrameAdmin(ReadOnlyAdmin):
    list_display = ["id", "video", "index", "timestamp", "touched_at", "reviewed_at"]
    list_select_related = ["video"]
    raw_id_fields = ["video"]


@admin.register(models.Track)
class TrackAdmin(ReadOnlyAdmin):
    list_display = ["id", "video", "label_class", "source", "external_id", "generation"]
    list_filter = ["source"]


@admin.register(models.Box)
class BoxAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "frame",
        "label_class",
        "x",
        "y",
        "w",
        "h",
        "source",
        "review_state",
        "score",
        "version",
    ]
    list_filter = ["source", "review_state"]
    raw_id_fields = ["frame", "track"]


@admin.register(models.Generation)
class GenerationAdmin(ReadOnlyAdmin):
    list_display = ["id", "video", "number", "status", "phase", "epoch", "epochs_total", "created_at"]
    list_filter = ["status"]


@admin.register(models.Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ["id", "video", "generation", "frame_index", "rank", "reason", "score"]


@admin.register(models.CorrectionEvent)
class CorrectionEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "video", "frame_index", "action", "box_count", "iou", "user", "created_at"]
    list_filter = ["action"]


@admin.register(models.ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "video", "format", "status", "box_count", "created_at"]
    list_filter = ["status", "format"]
