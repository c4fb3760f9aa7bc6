"""Background jobs as rows: a heartbeat while one runs, and the sweep that finds the dead ones.

Every job row (a clip's ingest, a generation, an export, a label import) has a
``heartbeat_at`` that a thread of the process running it beats every ANNOTATE_JOB_HEARTBEAT_SECONDS,
independently of how often the job itself reports progress. A worker that is killed (SIGKILL, OOM,
lost host) stops beating. The sweep (at worker start and every ANNOTATE_JOB_SWEEP_SECONDS in each
worker) takes a running row whose heartbeat is older than ANNOTATE_JOB_STALE_SECONDS for dead:

* attempts left: the row goes back to ``queued`` and its task is sent again, by name;
* none left: the row fails with a message, and what the attempt had written is removed.

The message a dead worker held may come back later (Redis redelivers it after the visibility
timeout); the services' claims are fenced, so a late copy finds the row finished and does nothing.

Each service module describes its job with a ``JobKind`` and registers it; this module imports no
service, so services can import it. Services queue work through ``enqueue_on_commit``, which sends a
task by name: they never import ``annotate.tasks`` (which imports them).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotate.errors import ConflictError
from annotate.models import ExportJob, Generation, ImportJob, JobStatus
from config.celery import app

log = logging.getLogger(__name__)

# The states of a job row (generations today) and the moves between them.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    # running -> queued: its worker died and the sweep queues it again.
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}
TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobStateError(ConflictError):
    """A transition the table does not allow (HTTP 409)."""

    code = "invalid_state"


class Superseded(Exception):
    """This attempt no longer owns its job row (swept as dead, or redelivered to another worker)."""


# The job rows with a status and start/finish stamps (a clip's ingest has its own fields).
RowT = TypeVar("RowT", Generation, ExportJob, ImportJob)


def job_transition(row: RowT, to: str, **fields: Any) -> RowT:
    """Move a locked (or freshly read) job row to ``to`` and save ``fields`` with it; refuse what the
    table does not allow ("Generation 2 cannot go from running to queued."). Stamps started/finished."""
    status = str(row.status)
    if to not in TRANSITIONS[status]:
        what = f"Generation {row.number}" if isinstance(row, Generation) else f"{type(row).__name__} {row.pk}"
        raise JobStateError(f"{what} cannot go from {status} to {to}.")
    now = timezone.now()
    row.status = to
    if to == JobStatus.RUNNING and row.started_at is None:
        row.started_at = now
    if to in TERMINAL:
        row.finished_at = now
        if isinstance(row, Generation):
            row.eta_seconds = None
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def job_claim(model: type[ExportJob] | type[ImportJob], job_id: int, **reset: Any) -> bool:
    """Claim a queued row for this attempt: running, ``attempts`` + 1, a fresh heartbeat, progress and
    error cleared (and ``reset`` fields set). A running row is claimed again only when its message
    was redelivered (the worker died mid-job): nothing of that attempt counts, it starts over, and
    the new attempt number fences the old one out. False when the row is gone or finished."""
    now = timezone.now()
    claimed = model._default_manager.filter(
        id=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(
        status=JobStatus.RUNNING,
        started_at=now,
        updated_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        items_done=0,
        error="",
        **reset,
    )
    return bool(claimed)


@dataclass(frozen=True)
class JobKind:
    label: str  # in messages: "ingest", "training run", "export", "label import"
    model: type[models.Model]
    running: str  # the status value of a row whose job runs
    task: str  # Celery task name, sent by name so this module never imports tasks
    queue: str
    max_attempts: Callable[[], int]
    # Puts a locked stale row back in the queue (``queued``, heartbeat cleared) in the sweep's transaction.
    requeue: Callable[[Any], None]
    # Fails a locked stale row with the message; it registers the removal of partial output on commit.
    give_up: Callable[[Any, str], None]


_KINDS: dict[str, JobKind] = {}
# The modules that register a kind, by name: the sweep loads them, so it sees every kind in any
# process that calls it (a worker has them through annotate.tasks; a command or a test may not).
JOB_MODULES = (
    "annotate.services.videos",
    "annotate.services.generations",
    "annotate.services.exports",
    "annotate.services.import_jobs",
)


def job_kind_register(kind: JobKind) -> JobKind:
    _KINDS[kind.label] = kind
    return kind


def task_send(task: str, object_id: int, *, queue: str) -> None:
    """Send a task of annotate.tasks by name, with the row's id as its one argument."""
    app.send_task(task, args=[object_id], queue=queue)


def job_send(kind: JobKind, pk: int) -> None:
    """Send the job's task by name (after the caller's transaction commits)."""
    task_send(kind.task, pk, queue=kind.queue)


def enqueue_on_commit(
    task: str, object_id: int, *, queue: str, on_failure: Callable[[str], None], what: str = "the job"
) -> None:
    """Send the task ``task(object_id)`` once the caller's transaction commits, without losing the row.

    Sent after commit, an unreachable broker cannot roll the row back; and the exception must not
    escape either: the row is committed and would stay ``queued`` with nothing to run it, and the
    request would answer 500 for work that was saved. Instead ``on_failure(message)`` records it on
    the row; the message reads "Could not queue <what>: <broker error>; is the broker running?".
    """

    def send() -> None:
        try:
            task_send(task, object_id, queue=queue)
        except Exception as exc:  # kombu's OperationalError, a refused connection, a bad broker URL
            error = str(exc) or exc.__class__.__name__
            log.error("could not queue %s for %s: %s", task, object_id, error)
            try:
                on_failure(f"Could not queue {what}: {error}; is the broker running?")
            except Exception:
                log.exception("recording that %s for %s could not be queued failed", what, object_id)

    transaction.on_commit(send)


def job_stale_q() -> Q:
    """Rows whose heartbeat stopped: their worker is taken for dead."""
    cutoff = timezone.now() - timedelta(seconds=settings.ANNOTATE_JOB_STALE_SECONDS)
    # A row that never beat (claimed before a heartbeat existed) counts from its last update.
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)


@contextmanager
def job_heartbeat(kind: JobKind, pk: int) -> Iterator[None]:
    """Beat the row's heartbeat from a thread while the block runs."""
    stop = threading.Event()
    interval = settings.ANNOTATE_JOB_HEARTBEAT_SECONDS

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    with transaction.atomic():
                        # A row the job holds locked at this moment skips one beat rather than wait.
                        mine = kind.model._default_manager.select_for_update(skip_locked=True).filter(
                            pk=pk, status=kind.running
                        )
                        if mine.exists():
                            kind.model._default_manager.filter(pk=pk).update(heartbeat_at=timezone.now())
                except Exception:
                    log.warning("%s %s: heartbeat failed; retrying", kind.label, pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    kind.model._default_manager.filter(pk=pk).update(heartbeat_at=timezone.now())
    thread = threading.Thread(target=beat, name=f"heartbeat-{kind.label}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def jobs_sweep() -> dict[str, int]:
    """Re-queue or fail every running job whose heartbeat stopped; counts per outcome."""
    counts = {"requeued": 0, "failed": 0}
    for module in JOB_MODULES:
        importlib.import_module(module)
    for kind in list(_KINDS.values()):
        stale = kind.model._default_manager.filter(job_stale_q(), status=kind.running)
        stale_ids = list(stale.values_list("pk", flat=True))
        for pk in stale_ids:
            with transaction.atomic():
                row = (
                    kind.model._default_manager.select_for_update(skip_locked=True)
                    .filter(job_stale_q(), pk=pk, status=kind.running)
                    .first()
                )
                if row is None:  # it beat, finished or was deleted meanwhile
                    continue
                attempts = int(getattr(row, "attempts", 0))
                if attempts < kind.max_attempts():
                    kind.requeue(row)
                    transaction.on_commit(partial(job_send, kind, pk))
                    counts["requeued"] += 1
                    log.warning(
                        "%s %s: its worker stopped beating (attempt %s); queued again",
                        kind.label,
                        pk,
                        attempts,
                    )
                else:
                    kind.give_up(row, lost_message(kind, attempts))
                    counts["failed"] += 1
                    log.warning(
                        "%s %s: its worker stopped beating (attempt %s); failed", kind.label, pk, attempts
                    )
    return counts


def lost_message(kind: JobKind, attempts: int) -> str:
    return (
        f"The worker running this {kind.label} stopped without finishing ({attempts} attempt"
        f"{'s' if attempts != 1 else ''}; it was killed, ran out of memory or lost its host). "
        "Nothing it wrote was kept; start it again, and check the worker's log if it keeps happening."
    )


class Sweeper:
    """The timer of one worker process: a sweep now, then every ANNOTATE_JOB_SWEEP_SECONDS."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                jobs_sweep()
            except Exception:
                log.exception("the sweep of dead jobs failed; trying again later")
            finally:
                # No connection stays open between sweeps: pool children forked meanwhile must not
                # inherit (and later close) one that belongs to this thread.
                connection.close()
            if self._stop.wait(settings.ANNOTATE_JOB_SWEEP_SECONDS):
                return
