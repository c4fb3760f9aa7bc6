"""import_video PROJECT_ID PATH [--wait] [--name N] [--fps F] [--max-width W] [--timeout S]
[--from-generation GENERATION_ID]

Prints {"id": ..., "frames": N, "status": ...}. PATH is a video file or a folder of images inside
ANNOTATE_IMPORT_ROOTS. With --from-generation (the id of a trained generation of another clip of the
project) the clip is pre-labeled by that model once it is ready (its generation 0). Without --wait
it returns as soon as the ingest is queued; with --wait it polls
the row until a worker (manage.py run_worker) has made it ready or failed.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import CommandFailed, JsonCommand
from annotate.models import Generation, Project, Video, VideoStatus
from annotate.services.videos import video_create_from_path

POLL_SECONDS = 0.5


def _result(video: Video) -> dict[str, Any]:
    result: dict[str, Any] = {"id": video.id, "frames": video.frame_count, "status": video.status}
    if video.error:
        result["error"] = video.error
    return result


class Command(JsonCommand):
    help = "Import a server-side video file or image folder into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project_id", type=int)
        parser.add_argument("path")
        parser.add_argument("--wait", action="store_true", help="wait until the ingest is ready or failed")
        parser.add_argument("--name", help="clip name (default: the file or folder name)")
        parser.add_argument("--fps", type=float, help="sample this many frames per second")
        parser.add_argument("--max-width", type=int, help="scale frames down to this width")
        parser.add_argument(
            "--from-generation",
            type=int,
            help="id of a trained generation of another clip: it pre-labels this clip once ingested",
        )
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="seconds --wait waits (default 3600)"
        )

    def run(self, **options: Any) -> dict[str, Any]:
        try:
            project = Project.objects.get(pk=options["project_id"])
        except Project.DoesNotExist as exc:
            raise CommandError(f"No project with id {options['project_id']}.") from exc
        start_from = None
        if options["from_generation"] is not None:
            start_from = (
                Generation.objects.select_related("video").filter(id=options["from_generation"]).first()
            )
            if start_from is None:
                raise CommandError(f"No generation with id {options['from_generation']}.")
        video = video_create_from_path(
            start_from=start_from,
            project=project,
            path=options["path"],
            name=options["name"],
            sample_fps=options["fps"],
            max_width=options["max_width"],
        )
        if options["wait"]:
            video = self._wait(video, timeout=options["timeout"])
        return _result(video)

    def _wait(self, video: Video, *, timeout: float) -> Video:
        deadline = time.monotonic() + timeout
        while video.status not in (VideoStatus.READY, VideoStatus.FAILED):
            if time.monotonic() > deadline:
                raise CommandFailed(
                    f"Video {video.id} is still {video.status} after {timeout:g} s "
                    f"({video.frames_done}/{video.frames_total} frames); is a worker running "
                    "(manage.py run_worker)?",
                    result=_result(video),
                )
            time.sleep(POLL_SECONDS)
            video.refresh_from_db()
        if video.status == VideoStatus.FAILED:
            raise CommandFailed(f"Video {video.id} failed to ingest: {video.error}", result=_result(video))
        return video
