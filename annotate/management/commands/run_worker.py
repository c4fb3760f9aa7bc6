"""run_worker [--queues cpu,gpu] [--concurrency N] [--pool prefork|solo]: a Celery worker, in the foreground.

Prefork by default: the task runs in a child process, so a decoder or trainer that crashes takes
down only that child, and with acks_late + reject_on_worker_lost its task goes back to the queue.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.celery import app


class Command(BaseCommand):
    help = "Run a Celery worker for the platform's queues on the configured broker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queues",
            default=",".join(settings.ANNOTATE_WORKER_QUEUES),
            help=f"comma-separated, of {', '.join(settings.ANNOTATE_QUEUES)} "
            "(default ANNOTATE_WORKER_QUEUES)",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.ANNOTATE_WORKER_CONCURRENCY,
            help="tasks run at once (default ANNOTATE_WORKER_CONCURRENCY)",
        )
        parser.add_argument("--pool", choices=["prefork", "solo"], default="prefork")
        parser.add_argument("--loglevel", default=settings.LOG_LEVEL)

    def handle(self, *args: Any, **options: Any) -> None:
        queues = [q.strip() for q in options["queues"].split(",") if q.strip()]
        unknown = sorted(set(queues) - set(settings.ANNOTATE_QUEUES))
        if not queues or unknown:
            raise CommandError(
                f"Unknown queue(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(settings.ANNOTATE_QUEUES)}."
            )
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")

        argv = [
            "worker",
            f"--queues={','.join(queues)}",
            f"--concurrency={options['concurrency']}",
            f"--pool={options['pool']}",
            f"--loglevel={options['loglevel']}",
            # Unique per process, so several workers on one host do not clash.
            f"--hostname=annotate-{os.getpid()}@%h",
        ]
        if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
            # The file-system transport has no broadcast: no remote control, mingle, gossip or heartbeat.
            app.conf.worker_enable_remote_control = False
            argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        app.worker_main(argv)
