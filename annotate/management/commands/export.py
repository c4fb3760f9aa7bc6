"""export PROJECT_ID --format coco|yolo|mot|cvat|cvat_images|voc|redact --out PATH [--video ID]
[--include-predictions] [--min-score S] [--frames reviewed|labeled|all] [--with-images] [--split clip|frame]
[--val-fraction F] [--test-fraction F] [--seed N] [--classes A,B] [--style blur|pixelate] [--block PX]
-> {"path": ..., "format": ..., "images": N, "boxes": N}

Runs the export in this process with the same writer as the background job. ``--out`` ending in
``.zip`` (or ``.json`` for COCO without images) is one file; any other name is a new folder.
``--format redact`` writes one clip (``--video``) as an mp4 with the boxes of ``--classes`` hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.exchange.rows import FrameSet
from annotate.management.jsoncommand import JsonCommand
from annotate.models import ExportFormat, Project
from annotate.services.exports import export_options_clean, export_write


class Command(JsonCommand):
    help = (
        'Export a project (or one clip) as labels or a redacted video; prints {"path": ...} as the last line.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project_id", type=int)
        parser.add_argument("--format", required=True, choices=ExportFormat.values)
        parser.add_argument("--out", required=True, type=Path, help="file (.zip / .json) or new folder")
        parser.add_argument("--video", type=int, help="export only this clip")
        parser.add_argument("--include-predictions", action="store_true", help="also unreviewed predictions")
        parser.add_argument("--min-score", type=float, help="drop unreviewed predictions scoring below this")
        parser.add_argument(
            "--frames",
            choices=FrameSet.CHOICES,
            default=FrameSet.REVIEWED,
            help="frames written: reviewed (finished by people, the default), labeled (also frames with a "
            "box that leaves), all (unlabeled frames become negatives)",
        )
        parser.add_argument(
            "--reviewed-only",
            action="store_const",
            const=FrameSet.REVIEWED,
            dest="frames",
            help="same as the default",
        )
        parser.add_argument(
            "--with-images", action="store_true", help="COCO/MOT: ship the frame pictures too"
        )
        parser.add_argument("--split", choices=["clip", "frame"], default="clip", help="YOLO: split unit")
        parser.add_argument(
            "--val-fraction",
            "--val",
            dest="val_fraction",
            type=float,
            default=0.2,
            help="YOLO: fraction for val",
        )
        parser.add_argument(
            "--test-fraction",
            "--test",
            dest="test_fraction",
            type=float,
            default=0.0,
            help="YOLO: fraction for test",
        )
        parser.add_argument("--seed", type=int, default=0, help="YOLO: split seed")
        parser.add_argument("--classes", help="redact: comma-separated class names whose boxes are hidden")
        parser.add_argument("--style", choices=["blur", "pixelate"], help="redact: how boxes are hidden")
        parser.add_argument("--block", type=int, help="redact: pixel block / smallest blur kernel (16)")

    def run(self, **options: Any) -> dict[str, Any]:
        project = Project.objects.filter(id=options["project_id"]).first()
        if project is None:
            raise CommandError(f"No project with id {options['project_id']}.")
        out: Path = options["out"].expanduser().resolve()
        if out.is_dir():
            raise CommandError(f"{out} already exists; give a new folder or a file name.")
        clean = export_options_clean(
            project=project,
            format=options["format"],
            options={
                "video": options["video"],
                "include_predictions": options["include_predictions"],
                "min_score": options["min_score"],
                "frames": options["frames"],
                "with_images": options["with_images"],
                "split": options["split"],
                "val_fraction": options["val_fraction"],
                "test_fraction": options["test_fraction"],
                "seed": options["seed"],
                **_redact_options(options),
            },
        )
        result = export_write(project=project, format=options["format"], options=clean, target=out)
        return {
            "path": str(result.path),
            "format": result.format,
            "images": result.images,
            "boxes": result.boxes,
        }


def _redact_options(options: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options["classes"] is not None:
        out["classes"] = [name.strip() for name in options["classes"].split(",") if name.strip()]
    for name in ("style", "block"):
        if options[name] is not None:
            out[name] = options[name]
    return out
