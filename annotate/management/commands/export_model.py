"""export_model VIDEO_ID --out DIR [--generation N] [--int8]
-> {"video", "generation", "checkpoint", "onnx", "onnx_int8", "bytes": {...}, "metadata": {...}}

Copies a generation's model out of the platform: its checkpoint and an ONNX file (with ``--int8``
also the 8-bit copy), the same files the API's ``/api/generations/<id>/model/`` serves. Without
``--generation`` the clip's active generation (the one whose pre-labels are shown).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.models import Generation, Video
from annotate.services.model_files import generation_model_file
from micromodels.onnx_model import read_metadata


class Command(JsonCommand):
    help = "Write a generation's checkpoint and ONNX model (optionally 8-bit) into a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int)
        parser.add_argument("--out", required=True, type=Path, help="folder to write into (made if absent)")
        parser.add_argument("--generation", type=int, help="generation number (default: the active one)")
        parser.add_argument("--int8", action="store_true", help="also the 8-bit (dynamically quantized) ONNX")

    def run(self, **options: Any) -> dict[str, Any]:
        video = Video.objects.select_related("project").filter(id=options["video_id"]).first()
        if video is None:
            raise CommandError(f"No clip with id {options['video_id']}.")
        if options["generation"] is not None:
            generation = Generation.objects.filter(video=video, number=options["generation"]).first()
            if generation is None:
                raise CommandError(f"Clip {video.id} has no generation {options['generation']}.")
        else:
            active = video.active_generation_id
            generation = Generation.objects.filter(id=active).first() if active is not None else None
            if generation is None:
                raise CommandError(f"Clip {video.id} has no trained generation yet; train it first.")
        out: Path = options["out"].expanduser().resolve()
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} is a file; give a folder.")
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, str] = {}
        stem = f"clip{video.id}-generation{generation.number}"
        files = {
            "checkpoint": ".pt",
            "onnx": ".onnx",
            **({"onnx_int8": ".int8.onnx"} if options["int8"] else {}),
        }
        for kind, suffix in files.items():
            source = generation_model_file(generation=generation, file=kind)
            target = out / f"{stem}{suffix}"
            shutil.copyfile(source, target)
            written[kind] = str(target)
        return {
            "video": video.id,
            "generation": generation.number,
            **written,
            "bytes": {kind: Path(path).stat().st_size for kind, path in written.items()},
            "metadata": read_metadata(Path(written["onnx"])),
        }
