"""efficiency VIDEO_ID | --project PROJECT_ID: the label-efficiency figures (annotate.selectors.analytics)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.models import Project, Video
from annotate.selectors.analytics import efficiency_for_project, efficiency_for_video


class Command(JsonCommand):
    help = "Label-efficiency figures of a clip or a project, as one JSON line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int, nargs="?")
        parser.add_argument("--project", type=int, dest="project_id")

    def run(self, **options: Any) -> dict[str, Any]:
        video_id, project_id = options["video_id"], options["project_id"]
        if (video_id is None) == (project_id is None):
            raise CommandError("Give either VIDEO_ID or --project PROJECT_ID.")
        if project_id is not None:
            project = Project.objects.filter(id=project_id).first()
            if project is None:
                raise CommandError(f"No project with id {project_id}.")
            return efficiency_for_project(project=project)
        video = Video.objects.filter(id=video_id).first()
        if video is None:
            raise CommandError(f"No video with id {video_id}.")
        return efficiency_for_video(video=video)
