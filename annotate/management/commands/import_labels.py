"""import_labels VIDEO_ID FILE --format coco|yolo|mot [--as-predictions] [--create-classes]
-> {"video": id, "boxes": N, "frames": N, "tracks": N, ...}

FILE is a COCO .json, a MOT gt.txt, or a zip or folder of any of the three. All or nothing: on any
invalid item every problem is listed on stderr, nothing is written and the exit status is non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.models import ExportFormat, Video
from annotate.services.imports import LabelImportError, labels_import


class Command(JsonCommand):
    help = 'Import COCO, YOLO or MOT labels into a clip; prints {"video": ..., "boxes": ...} last.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", required=True, choices=ExportFormat.values)
        parser.add_argument("--as-predictions", action="store_true", help="import as unreviewed predictions")
        parser.add_argument("--create-classes", action="store_true", help="add classes the project lacks")

    def run(self, **options: Any) -> dict[str, Any]:
        video = Video.objects.select_related("project").filter(id=options["video_id"]).first()
        if video is None:
            raise CommandError(f"No video with id {options['video_id']}.")
        path: Path = options["file"].expanduser()
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            result = labels_import(
                video=video,
                path=path,
                format=options["format"],
                as_predictions=options["as_predictions"],
                create_classes=options["create_classes"],
            )
        except LabelImportError as exc:
            raise CommandError("\n".join([exc.summary, *exc.errors])) from exc
        return result.as_dict()
