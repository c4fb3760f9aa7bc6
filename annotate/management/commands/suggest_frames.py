"""suggest_frames VIDEO_ID [--count N] -> {"frames": [...], "reasons": [...], "scores": [...], ...}

The frames to label next, best first, never one already labeled: the active generation's
suggestions, or before any generation the engine's diverse initial pick.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.models import Video
from annotate.services.suggestions import suggestion_list


class Command(JsonCommand):
    help = 'Frames to label next; prints {"frames": [...], "reasons": [...]} as the last line.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int)
        parser.add_argument("--count", type=int, default=5, help="how many frames (default 5)")

    def run(self, **options: Any) -> dict[str, Any]:
        if options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        video = Video.objects.filter(id=options["video_id"]).first()
        if video is None:
            raise CommandError(f"No video with id {options['video_id']}.")
        suggestions = suggestion_list(video=video, count=options["count"])
        generation = video.active_generation
        return {
            "video": video.id,
            "generation": generation.number if generation else None,
            "frames": [s.frame_index for s in suggestions],
            "reasons": [s.reason for s in suggestions],
            "scores": [round(s.score, 4) for s in suggestions],
        }
