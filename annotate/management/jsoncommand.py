"""The convention of the platform's management commands, which scripts depend on.

A command prints exactly one JSON object as the LAST line of stdout (anything before it is for
people). On an error it prints a clear message on stderr and exits non-zero, and the JSON line still
comes, with the message under "error": the failure's result when it has one (a clip that failed to
ingest, so scripts get its id), else just {"error": ...}.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotate.errors import ServiceError


class CommandFailed(CommandError):
    """The command ran but its outcome is a failure; ``result`` is still printed as the JSON line."""

    def __init__(self, message: str, *, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


class JsonCommand(BaseCommand):
    """Subclasses implement ``run(**options) -> dict``; ``handle`` prints it as the JSON line."""

    def run(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self.run(**options)
        except CommandFailed as exc:
            self.print_json({"error": str(exc), **exc.result})
            raise
        except ServiceError as exc:
            self.print_json({"error": exc.message})
            raise CommandError(exc.message) from exc
        except CommandError as exc:
            self.print_json({"error": str(exc)})
            raise
        self.print_json(result)

    def print_json(self, result: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(result, default=str))
