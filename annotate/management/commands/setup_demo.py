"""setup_demo [--username demo] [--password demo-password]: a demo account, project and clip.

Idempotent: a second run reuses the user, the project and the clip (and resets the password).
Prints {"project": id, "video": id, "username": ..., "password": ...}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser
from django.db import transaction

from annotate.management.jsoncommand import JsonCommand
from annotate.models import Membership, Project, Role, Video, VideoStatus
from annotate.services.projects import membership_add, project_create
from annotate.services.videos import video_create_from_path
from fixtures.make_clips import make_clip

DEMO_PROJECT = "Demo: moving shapes"
DEMO_CLASSES = ["square", "disc"]
DEMO_VIDEO = "moving-shapes.mp4"


def _demo_clip() -> Path:
    """Generate the demo clip once, in the first allowed import folder."""
    folder = Path(settings.ANNOTATE_IMPORT_ROOTS[0]) / "demo"
    clip = folder / "clip.mp4"
    if not clip.exists():
        make_clip(folder, frames=120, width=480, height=320, objects=3, seed=7, fps=10.0, images=False)
    return clip


class Command(JsonCommand):
    help = "Create (or reuse) the demo user, project and clip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password")

    def run(self, **options: Any) -> dict[str, Any]:
        username, password = options["username"], options["password"]
        clip = _demo_clip()
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username=username)
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            project = Project.objects.filter(name=DEMO_PROJECT).order_by("id").first()
            if project is None:
                project = project_create(name=DEMO_PROJECT, classes=DEMO_CLASSES, created_by=user)
            elif not Membership.objects.filter(project=project, user=user).exists():
                membership_add(project=project, user=user, role=Role.MANAGER)
            video = (
                Video.objects.filter(project=project, name=DEMO_VIDEO)
                .exclude(status=VideoStatus.FAILED)
                .order_by("id")
                .first()
            )
            if video is None:
                video = video_create_from_path(project=project, path=clip, name=DEMO_VIDEO, created_by=user)
        return {"project": project.id, "video": video.id, "username": username, "password": password}
