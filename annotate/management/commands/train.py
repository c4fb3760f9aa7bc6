"""train VIDEO_ID [--wait] [--timeout S] -> {"generation", "id", "status", "metrics", ...}

Starts the clip's next generation through the real queue (a worker consuming ``gpu`` must run), or
reports the one already queued or running. With ``--wait`` it follows the run until it ends,
printing progress lines, and exits non-zero unless it succeeded. A run whose worker died is
detected (no heartbeat) and reported as failed.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotate.jobs import TERMINAL
from annotate.management.jsoncommand import CommandFailed, JsonCommand
from annotate.models import Generation, JobStatus, Video
from annotate.services.generations import generation_start, generation_sweep_lost


def _result(generation: Generation, *, created: bool) -> dict[str, Any]:
    return {
        "generation": generation.number,
        "id": generation.id,
        "video": generation.video_id,
        "status": generation.status,
        "created": created,
        "base_weights": generation.base_weights,
        "trained_frames": generation.trained_frames,
        "metrics": generation.metrics,
        "train_seconds": generation.train_seconds,
        "prelabel_seconds": generation.prelabel_seconds,
        "attempts": generation.attempts,
        "error": generation.error,
    }


class Command(JsonCommand):
    help = "Train the clip's next generation on the worker queue; --wait follows it to the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video_id", type=int)
        parser.add_argument("--wait", action="store_true", help="block until the run ends")
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="seconds to wait at most (default 3600)"
        )
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks (default 1)")

    def run(self, **options: Any) -> dict[str, Any]:
        video = Video.objects.filter(id=options["video_id"]).first()
        if video is None:
            raise CommandError(f"No video with id {options['video_id']}.")
        generation, created = generation_start(video=video)
        self.stdout.write(
            f"generation {generation.number} {'queued' if created else 'already ' + generation.status}"
        )
        if not options["wait"]:
            return _result(generation, created=created)

        deadline = time.monotonic() + options["timeout"]
        last_line = ""
        while True:
            generation.refresh_from_db()
            if generation.status in TERMINAL:
                break
            epochs = f"{generation.epoch}/{generation.epochs_total}"
            line = f"{generation.status} {generation.phase or 'waiting'} epoch {epochs}"
            if line != last_line:
                self.stdout.write(line)
                last_line = line
            if time.monotonic() > deadline:
                raise CommandFailed(
                    f"Generation {generation.number} still {generation.status} after {options['timeout']} s.",
                    result=_result(generation, created=created),
                )
            generation_sweep_lost(video_id=video.id)
            time.sleep(max(0.05, options["poll"]))
        result = _result(generation, created=created)
        if generation.status != JobStatus.SUCCEEDED:
            raise CommandFailed(
                f"Generation {generation.number} {generation.status}: {generation.error or 'no error given'}",
                result=result,
            )
        return result
