"""Generations: one training run of a clip's micro-model, as a job row with guarded transitions.

    queued --> running --> succeeded          (pre-labels written and the clip switched, atomically)
       |          |------> failed | cancelled
       |------> cancelled | failed

A start enqueues ``generation_run`` on the ``gpu`` queue once the row is committed. The worker calls
``generation_execute``: it claims the row (``attempts`` + 1; a row found already ``running`` is a
redelivery after a worker died), trains, pre-labels, and commits everything in one transaction
(``annotate.services.prelabels``). ``attempts`` doubles as a fencing token: an attempt that has
been superseded or swept stops at its next stop check and can never commit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

import micromodels
from annotate import engine_adapter
from annotate.errors import ConflictError, ServiceError
from annotate.jobs import (
    TERMINAL,
    JobKind,
    JobStateError,
    Superseded,
    job_heartbeat,
    job_kind_register,
    job_send,
    job_transition,
)
from annotate.models import ACTIVE_JOB_STATUSES, Generation, GenerationPhase, JobStatus, Video, VideoStatus
from annotate.permissions import Person, person
from annotate.services.prelabels import prelabels_commit
from micromodels.checkpoints import make_checkpoint, verify_checkpoint
from micromodels.errors import Cancelled, EngineError
from micromodels.types import TrainProgress, TrainResult

logger = logging.getLogger(__name__)

_STOP_CHECK_EVERY = 1.0  # seconds between database reads of the cancel flag
_HEARTBEAT_EVERY = 5.0  # seconds between heartbeats (updated_at) of a running generation


def generation_transition(*, generation: Generation, to: str, **fields: Any) -> Generation:
    """Move a locked (or freshly read) generation to ``to`` with ``fields`` (annotate.jobs' table)."""
    return job_transition(generation, to, **fields)


def _locked(generation_id: int) -> Generation:
    return Generation.objects.select_for_update().get(id=generation_id)


def _active_run(video_id: int) -> Generation | None:
    return Generation.objects.filter(video_id=video_id, status__in=ACTIVE_JOB_STATUSES).first()


# -- start / cancel ----------------------------------------------------------------------------


def generation_start(
    *, video: Video, user: Person = None, automatic: bool = False
) -> tuple[Generation, bool]:
    """Queue the clip's next generation: ``(generation, True)``, or ``(the run in progress, False)``.

    Training needs at least one labeled frame. A run whose worker died silently is failed first, so
    a dead run never blocks the clip.
    """
    generation_sweep_lost(video_id=video.id)
    with transaction.atomic():
        # The clip row serialises starts; the partial unique constraint is the backstop.
        locked = Video.objects.select_for_update(no_key=True).get(id=video.id)
        existing = _active_run(locked.id)
        if existing is not None:
            return existing, False
        if locked.status != VideoStatus.READY:
            raise ServiceError(f"Video {locked.id} is {locked.status}; train once it is ready.")
        if not engine_adapter.labeled_frames_of(locked).exists():
            raise ServiceError("Label at least one frame before training a model.")
        top = Generation.objects.filter(video=locked).aggregate(top=Max("number"))["top"] or 0
        try:
            with transaction.atomic():
                generation = Generation.objects.create(video=locked, number=top + 1, created_by=person(user))
        except IntegrityError:
            existing = _active_run(locked.id)
            if existing is None:
                raise
            return existing, False
        generation_id = generation.id
        transaction.on_commit(lambda: _enqueue(generation_id))
    logger.info(
        "generation %s of video %s queued (%s)",
        generation.number,
        video.id,
        "automatic" if automatic else "manual",
    )
    return generation, True


def generation_source_check(*, video: Video, source: Generation) -> None:
    """A generation another clip of the project may start from: ServiceError saying why not."""
    if source.video.project_id != video.project_id:
        raise ServiceError("That generation belongs to another project.", field="from_generation")
    if source.video_id == video.id:
        raise ServiceError("A clip starts from another clip's model, not its own.", field="from_generation")
    if source.status != JobStatus.SUCCEEDED or not source.checkpoint_path:
        raise ServiceError(
            f"Generation {source.number} of {source.video.name} is {source.status}; pick a trained one.",
            field="from_generation",
        )


def generation_start_from(*, video: Video, source: Generation, user: Person = None) -> Generation:
    """Queue the clip's generation 0: no training, ``source`` (a trained generation of another clip
    of the project) pre-labels every frame; its checkpoint is copied to this clip, so the clip's
    generation 1 warm-starts from it. Only for a clip with no generation yet (ConflictError)."""
    generation_source_check(video=video, source=source)
    try:
        verify_checkpoint(engine_adapter.checkpoint_of(source))
    except EngineError as exc:
        raise ServiceError(
            f"The model of that generation is unusable ({exc}).", field="from_generation"
        ) from exc
    with transaction.atomic():
        locked = Video.objects.select_for_update(no_key=True).get(id=video.id)
        if locked.status != VideoStatus.READY:
            raise ServiceError(f"Video {locked.id} is {locked.status}; start it once it is ready.")
        if Generation.objects.filter(video=locked).exists():
            raise ConflictError(
                "This clip already has generations; a clip starts from another clip's model only "
                "before its first one."
            )
        generation = Generation.objects.create(
            video=locked,
            number=0,
            transferred_from=source,
            base_weights=source.checkpoint_path,
            created_by=person(user),
        )
        generation_id = generation.id
        transaction.on_commit(lambda: _enqueue(generation_id))
    logger.info(
        "generation 0 of video %s queued from generation %s of video %s",
        video.id,
        source.number,
        source.video_id,
    )
    return generation


def _enqueue(generation_id: int) -> None:
    try:
        job_send(GENERATION_JOB, generation_id)
    except Exception as exc:  # broker down: say so on the row instead of leaving it queued forever
        logger.exception("could not enqueue generation %s", generation_id)
        generation_fail(generation_id=generation_id, error=f"Could not queue the training run: {exc}")


@transaction.atomic
def generation_cancel(*, generation: Generation) -> Generation:
    """A queued run is cancelled at once; a running one is asked to stop (the engine checks the flag
    between steps). Cancelling a finished run is refused."""
    row = _locked(generation.id)
    if row.status == JobStatus.QUEUED:
        return generation_transition(generation=row, to=JobStatus.CANCELLED, cancel_requested=True)
    if row.status == JobStatus.RUNNING:
        row.cancel_requested = True
        row.save(update_fields=["cancel_requested", "updated_at"])
        return row
    raise JobStateError(f"Generation {row.number} is already {row.status}.")


@transaction.atomic
def generation_fail(*, generation_id: int, error: str, attempt: int | None = None) -> Generation | None:
    """Mark the run failed; with ``attempt``, only if that attempt still owns it. A row deleted
    meanwhile (its clip or project went while it ran) has nothing left to fail."""
    row = Generation.objects.select_for_update().filter(id=generation_id).first()
    if row is None:
        logger.info("generation %s was deleted while it ran; stopped", generation_id)
        return None
    if row.status in TERMINAL or (attempt is not None and row.attempts != attempt):
        return None
    return generation_transition(generation=row, to=JobStatus.FAILED, error=error[:4000])


def generation_sweep_lost(*, video_id: int | None = None) -> int:
    """Fail running generations whose heartbeat stopped (the worker was killed): how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.ANNOTATE_GENERATION_STALE_SECONDS)
    # Silent on both: its progress (updated_at) and the heartbeat thread of its process (annotate.jobs).
    stale = Generation.objects.filter(status=JobStatus.RUNNING, updated_at__lt=cutoff).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    )
    if video_id is not None:
        stale = stale.filter(video_id=video_id)
    swept = 0
    for generation_id in stale.values_list("id", flat=True):
        with transaction.atomic():
            row = _locked(generation_id)
            if row.status == JobStatus.RUNNING and row.updated_at < cutoff:
                generation_transition(
                    generation=row,
                    to=JobStatus.FAILED,
                    error=f"Worker lost: no heartbeat for {settings.ANNOTATE_GENERATION_STALE_SECONDS} s "
                    f"(attempt {row.attempts}).",
                )
                swept += 1
    if swept:
        logger.warning("marked %d generation(s) failed after their worker was lost", swept)
    return swept


# -- the run ---------------------------------------------------------------------------------------


@transaction.atomic
def generation_claim(*, generation_id: int) -> int | None:
    """The worker takes the run: the attempt number it now owns, or None when there is nothing to do.

    Found ``running``: the message was redelivered because the worker that had it died. That
    attempt's work is abandoned; the run restarts while attempts remain and fails otherwise.
    """
    row = Generation.objects.select_for_update().filter(id=generation_id).first()
    if row is None or row.status in TERMINAL:
        return None
    if row.cancel_requested:
        generation_transition(generation=row, to=JobStatus.CANCELLED)
        return None
    if row.status == JobStatus.RUNNING and row.attempts >= settings.ANNOTATE_GENERATION_MAX_ATTEMPTS:
        generation_transition(
            generation=row,
            to=JobStatus.FAILED,
            error=f"Worker lost during attempt {row.attempts}; giving up.",
        )
        return None
    if row.status == JobStatus.QUEUED:
        generation_transition(generation=row, to=JobStatus.RUNNING)
    else:
        logger.warning(
            "generation %s redelivered after attempt %s was lost; restarting", row.id, row.attempts
        )
    row.attempts += 1
    row.phase = GenerationPhase.TRAINING
    row.epoch = 0
    row.epochs_total = 0
    row.eta_seconds = None
    row.loss_history = []
    row.error = ""
    row.save()
    return row.attempts


class _RunControl:
    """The engine's stop check and progress callback for one attempt: reads the cancel flag, beats the
    heartbeat, and refuses to go on once the attempt no longer owns the row."""

    def __init__(self, generation_id: int, attempt: int, started: float | None = None) -> None:
        self.generation_id = generation_id
        self.attempt = attempt
        self.started = time.monotonic() if started is None else started  # when the task took the run
        self.superseded = False
        self._checked = 0.0
        self._beat = time.monotonic()
        self._stop = False

    def _owned(self) -> QuerySet[Generation]:
        return Generation.objects.filter(
            id=self.generation_id, status=JobStatus.RUNNING, attempts=self.attempt
        )

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._checked < _STOP_CHECK_EVERY:
            return self._stop
        self._checked = now
        row = Generation.objects.filter(id=self.generation_id).values(
            "status", "attempts", "cancel_requested"
        )
        state = row.first()
        if state is None or state["status"] != JobStatus.RUNNING or state["attempts"] != self.attempt:
            self.superseded = True
            self._stop = True
        elif state["cancel_requested"]:
            self._stop = True
        elif now - self._beat >= _HEARTBEAT_EVERY:
            self._beat = now
            self._owned().update(updated_at=timezone.now())
        return self._stop

    def phase(self, phase: str) -> None:
        self._owned().update(phase=phase, eta_seconds=None, updated_at=timezone.now())

    def progress(self, progress: TrainProgress) -> None:
        row = self._owned().values_list("loss_history", flat=True).first()
        if row is None:
            return
        history = [*row, {"epoch": progress.epoch, **progress.losses}]
        self._beat = time.monotonic()
        self._owned().update(
            epoch=progress.epoch,
            epochs_total=progress.epochs_total,
            eta_seconds=progress.eta_seconds,
            loss_history=history,
            updated_at=timezone.now(),
        )


def _work_dir(generation: Generation, attempt: int) -> Path:
    path = _attempt_dir(generation.video_id, generation.number, attempt)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _sha256_of(path: str) -> str:
    """The hash a fetched base model was pinned with (``<file>.sha256`` beside it, written by
    ``fetch_weights``), so the generation names exactly which weights it started from."""
    pin = Path(path + ".sha256") if path and path != "from scratch" else None
    text = pin.read_text().strip() if pin is not None and pin.is_file() else ""
    return text.split()[0][:64] if text else ""


def _record_training(generation_id: int, attempt: int, result: TrainResult, human_frames: list[int]) -> None:
    # The engine also trains on frames it pseudo-labeled itself; the row names the human frames.
    pseudo = len(set(result.trained_frames) - set(human_frames))
    updated = Generation.objects.filter(id=generation_id, status=JobStatus.RUNNING, attempts=attempt).update(
        phase=GenerationPhase.PRELABELING,
        base_weights=result.base_weights,
        base_weights_sha256=_sha256_of(result.base_weights),
        model=result.model,
        trained_frames=human_frames,
        metrics={
            **result.metrics,
            "device": result.device,
            "epochs": result.epochs,
            "pseudo_labeled_frames": pseudo,
        },
        loss_history=list(result.loss_history),
        epoch=result.epochs,
        epochs_total=result.epochs,
        eta_seconds=None,
        checkpoint_path=str(result.checkpoint.path),
        checkpoint_sha256=result.checkpoint.sha256,
        train_seconds=result.seconds,
        updated_at=timezone.now(),
    )
    if not updated:
        raise Superseded


def generation_execute(*, generation_id: int) -> None:
    """Run one generation end to end in this process (the ``generation_run`` task calls this)."""
    started = time.monotonic()
    attempt = generation_claim(generation_id=generation_id)
    if attempt is None:
        return
    # One line per run taken, naming the process: several workers' logs show who ran what, once.
    logger.info("generation %s attempt %s running in process %s", generation_id, attempt, os.getpid())
    control = _RunControl(generation_id, attempt, started)
    owner = Generation.objects.filter(id=generation_id).values_list("video_id", "number").first()
    succeeded = False
    try:
        with job_heartbeat(GENERATION_JOB, generation_id):
            _run(generation_id, attempt, control)
        succeeded = True
    except (Cancelled, Superseded):
        _stopped(generation_id, attempt, superseded=control.superseded)
    except Generation.DoesNotExist:
        # Deleted with its clip or project while it ran: nothing is left to record.
        logger.info("generation %s was deleted while it ran; stopped", generation_id)
    except EngineError as exc:
        generation_fail(generation_id=generation_id, error=str(exc), attempt=attempt)
    except Exception as exc:
        if not Generation.objects.filter(id=generation_id).exists():
            logger.info(
                "generation %s was deleted while it ran (%s); stopped", generation_id, type(exc).__name__
            )
        else:
            logger.exception("generation %s failed", generation_id)
            generation_fail(
                generation_id=generation_id, error=f"{type(exc).__name__}: {exc}", attempt=attempt
            )
    finally:
        if owner is not None:
            _clear_scratch(generation_id, owner[0], owner[1], attempt, keep_checkpoint=succeeded)


def _attempt_dir(video_id: int, number: int, attempt: int) -> Path:
    return (
        Path(settings.ANNOTATE_WORK_DIR) / f"video-{video_id}" / f"generation-{number}" / f"attempt-{attempt}"
    )


def _clear_scratch(
    generation_id: int, video_id: int, number: int, attempt: int, *, keep_checkpoint: bool
) -> None:
    """Remove the attempt's training data set, run folder and pre-label files once it ended.

    A generation that succeeded keeps its checkpoint (the next one starts from it); any other
    outcome leaves nothing. The folder is the attempt's own, so a newer attempt's is never touched.
    A clip deleted while this ran had its work folder removed then; what the run wrote since goes now.
    """
    if not Video.objects.filter(id=video_id).exists():
        shutil.rmtree(Path(settings.ANNOTATE_WORK_DIR) / f"video-{video_id}", ignore_errors=True)
        return
    folder = _attempt_dir(video_id, number, attempt)
    if not folder.is_dir():
        return
    row = Generation.objects.filter(id=generation_id).values("checkpoint_path").first()
    checkpoint = Path(row["checkpoint_path"]) if keep_checkpoint and row and row["checkpoint_path"] else None
    for entry in folder.iterdir():
        if checkpoint is not None and entry == checkpoint:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if checkpoint is None:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _run(generation_id: int, attempt: int, control: _RunControl) -> Path:
    """Train, pre-label and commit one attempt; the attempt's work folder."""
    generation = Generation.objects.select_related("video__project").get(id=generation_id)
    video = generation.video
    clip = engine_adapter.clip_for_video(video)
    labeled = engine_adapter.labeled_frames(video)
    work_dir = _work_dir(generation, attempt)
    train_called = time.monotonic()
    if generation.transferred_from_id is not None:
        trained = _transferred_model(generation, work_dir)
    else:
        trained = micromodels.train(
            clip,
            labeled,
            work_dir,
            engine_adapter.train_config(video),
            progress=control.progress,
            should_stop=control,
        )
    train_wall = time.monotonic() - train_called
    _record_training(generation_id, attempt, trained, sorted(frame.index for frame in labeled))
    control.phase(GenerationPhase.PRELABELING)
    started = time.monotonic()
    result = micromodels.prelabel(
        clip,
        labeled,
        trained.checkpoint,
        work_dir,
        engine_adapter.prelabel_config(),
        suggestions=settings.ANNOTATE_SUGGESTIONS,
        should_stop=control,
    )
    prelabel_seconds = time.monotonic() - started
    prelabels_commit(
        generation_id=generation_id,
        attempt=attempt,
        result=result,
        prelabel_seconds=prelabel_seconds,
        timings=_timings(generation, control, train_called, train_wall, trained, prelabel_seconds),
    )
    return work_dir


_generations_in_process = 0  # how many runs this worker process has taken (the first pays any warm-up left)


def _timings(
    generation: Generation,
    control: _RunControl,
    train_called: float,
    train_wall: float,
    trained: TrainResult,
    prelabel_seconds: float,
) -> dict[str, float | int]:
    """Where the run's time went, in seconds (``metrics["timings"]``; ``commit_s`` is added by the commit).

    ``queue_wait_s``: from the row's creation (queued) to this attempt's task taking it. ``setup_s``:
    from taking it to the first training step, i.e. reading the rows, the engine's checks, its
    pseudo-labeling pass and decoding the training frames (a ClipNet run's ``seconds`` start at its
    first step; a YOLO run's include its own setup, so there ``setup_s`` is the platform's share only).
    """
    global _generations_in_process
    _generations_in_process += 1
    queued = generation.created_at
    took = generation.started_at if generation.attempts <= 1 and generation.started_at else None
    wait = (took - queued).total_seconds() if took is not None else None
    return {
        **({"queue_wait_s": round(max(0.0, wait), 3)} if wait is not None else {}),
        "setup_s": round(train_called - control.started + max(0.0, train_wall - trained.seconds), 3),
        "train_s": round(trained.seconds, 3),
        "prelabel_s": round(prelabel_seconds, 3),
        "run_in_process": _generations_in_process,
    }


def _transferred_model(generation: Generation, work_dir: Path) -> TrainResult:
    """Generation 0 of a clip started from another clip's model: that checkpoint, copied here."""
    source_id = generation.transferred_from_id
    source = Generation.objects.select_related("video").filter(id=source_id).first() if source_id else None
    if source is None or not source.checkpoint_path:
        raise EngineError("the generation this clip was to start from is gone; train this clip instead")
    weights = verify_checkpoint(engine_adapter.checkpoint_of(source))
    copy = work_dir / weights.name
    shutil.copyfile(weights, copy)
    return TrainResult(
        checkpoint=make_checkpoint(copy),
        base_weights=str(weights),
        device="none",
        epochs=0,
        seconds=0.0,
        metrics={},
        model=f"{source.model or 'model'} of {source.video.name}, generation {source.number} "
        "(not trained on this clip)",
    )


@transaction.atomic
def _stopped(generation_id: int, attempt: int, *, superseded: bool) -> None:
    row = Generation.objects.select_for_update().filter(id=generation_id).first()
    if row is None:
        logger.info("generation %s was deleted while it ran; stopped", generation_id)
        return
    if superseded or row.status in TERMINAL or row.attempts != attempt:
        logger.info("generation %s attempt %s stopped: no longer its owner", generation_id, attempt)
        return
    generation_transition(generation=row, to=JobStatus.CANCELLED)


# -- a dead worker's run (annotate.jobs) ------------------------------------------------------------


def _requeue_lost(generation: Generation) -> None:
    generation_transition(generation=generation, to=JobStatus.QUEUED, heartbeat_at=None, eta_seconds=None)
    # The dead attempt's half-built data set and run folder; the next attempt works in its own.
    folder = _attempt_dir(generation.video_id, generation.number, generation.attempts)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


def _give_up_lost(generation: Generation, message: str) -> None:
    generation_transition(generation=generation, to=JobStatus.FAILED, error=message, heartbeat_at=None)
    folder = _attempt_dir(generation.video_id, generation.number, generation.attempts)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


GENERATION_JOB = job_kind_register(
    JobKind(
        label="training run",
        model=Generation,
        running=JobStatus.RUNNING,
        task="annotate.generation_run",
        queue="gpu",
        max_attempts=lambda: settings.ANNOTATE_GENERATION_MAX_ATTEMPTS,
        requeue=_requeue_lost,
        give_up=_give_up_lost,
    )
)
