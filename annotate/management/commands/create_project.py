"""create_project NAME --classes a,b,c [--manager USERNAME] -> {"id": ..., "name": ..., "classes": [...]}"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from annotate.management.jsoncommand import JsonCommand
from annotate.services.projects import project_create


class Command(JsonCommand):
    help = 'Create a project with its label classes; prints {"id": ...} as the last line.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--classes", required=True, help="comma-separated class names, in index order")
        parser.add_argument("--manager", help="username of an existing user who owns the project")

    def run(self, **options: Any) -> dict[str, Any]:
        classes = [name.strip() for name in options["classes"].split(",") if name.strip()]
        manager = None
        if options["manager"]:
            user_model = get_user_model()
            try:
                manager = user_model.objects.get(username=options["manager"])
            except user_model.DoesNotExist as exc:
                raise CommandError(f"No user named {options['manager']!r}.") from exc
        project = project_create(name=options["name"], classes=classes, created_by=manager)
        return {"id": project.id, "name": project.name, "classes": classes}
