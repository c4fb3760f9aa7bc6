"""import_labels VIDEO_ID FILE --format coco|yolo|mot|cvat|label_studio|voc [options]
-> {"video": id, "boxes": N, "frames": N, "tracks": N, "clipped_boxes": N, ...}

FILE is a label file (COCO .json, MOT gt.txt, CVAT .xml, Label Studio .json), or a zip or folder of
any format. All or nothing: on any invalid item every problem is listed on stderr, nothing is written
and the exit status is non-zero. See docs/formats.md for what each format reader accepts and how
frames are matched.

``--queue`` runs it as a job on a worker's ``cpu`` queue instead (as an upload through the API does:
a single file only, copied into the media folder) and prints the job: {"id": job, "status": "queued"}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.models import ImportFormat, ImportMode, Video
from annotate.services.import_jobs import import_job_create
from annotate.services.imports import LabelImportError, labels_import


class Command(JsonCommand):
    help = 'Import labels into a clip (all or nothing); prints {"video": ..., "boxes": ...} last.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", required=True, choices=ImportFormat.values)
        parser.add_argument("--as-predictions", action="store_true", help="import as unreviewed predictions")
        parser.add_argument("--create-classes", action="store_true", help="add classes the project lacks")
        parser.add_argument(
            "--mode",
            choices=ImportMode.values,
            default=ImportMode.APPEND,
            help="replace: the file is the truth for the frames it names; append (default): add beside",
        )
        parser.add_argument(
            "--first-frame",
            type=int,
            choices=[0, 1],
            help="how numbers in file names count frames: 0 (CVAT, Datumaro) or 1 (ffmpeg, Label Studio)",
        )
        parser.add_argument("--allow-duplicate", action="store_true", help="append a file imported before")
        parser.add_argument("--class", dest="default_class", help="class of boxes the file gives none")
        parser.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
        parser.add_argument(
            "--queue", action="store_true", help="run it as a job on a worker; prints the job's id"
        )

    def run(self, **options: Any) -> dict[str, Any]:
        video = Video.objects.select_related("project").filter(id=options["video_id"]).first()
        if video is None:
            raise CommandError(f"No video with id {options['video_id']}.")
        path: Path = options["file"].expanduser()
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        if options["queue"]:
            return self._queue(video, path, options)
        try:
            result = labels_import(
                video=video,
                path=path,
                format=options["format"],
                as_predictions=options["as_predictions"],
                create_classes=options["create_classes"],
                mode=options["mode"],
                first_frame=options["first_frame"],
                allow_duplicate=options["allow_duplicate"],
                default_class=options["default_class"],
                dry_run=options["dry_run"],
            )
        except LabelImportError as exc:
            raise CommandError("\n".join([exc.summary, *exc.errors])) from exc
        return result.as_dict()

    def _queue(self, video: Video, path: Path, options: dict[str, Any]) -> dict[str, Any]:
        if not path.is_file():
            raise CommandError(f"{path} is a folder; --queue takes one file (a label file or a zip).")
        names = (
            "format",
            "as_predictions",
            "create_classes",
            "mode",
            "first_frame",
            "allow_duplicate",
            "default_class",
        )
        with path.open("rb") as handle:
            job = import_job_create(
                video=video,
                upload=File(handle, name=path.name),
                options={
                    **{name: options[name] for name in names},
                    "default_class": options["default_class"],
                },
                dry_run=options["dry_run"],
            )
        return {"id": job.id, "status": job.status}
