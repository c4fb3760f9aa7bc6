"""Data and invariants only. Every write goes through annotate.services; reads through selectors."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class JobStatus(models.TextChoices):
    """Shared status of background jobs (generations, exports, imports)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Project(TimeStamped):
    name = models.CharField(max_length=200)
    # Path to a local `.pt` detector checkpoint; empty means the platform default
    # (settings.ANNOTATE_BASE_WEIGHTS). Training starts from scratch when the file is absent.
    base_weights = models.CharField(max_length=500, blank=True)
    auto_train = models.BooleanField(default=True)
    auto_train_after_frames = models.PositiveIntegerField(default=5)
    # Ignore any base weights and train every clip's first generation from scratch.
    train_from_scratch = models.BooleanField(default=False)
    # Seconds one generation may train; null means the platform default (ANNOTATE_TRAIN_TIME_BUDGET).
    train_time_budget = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Colour must look like #RRGGBB.")


class LabelClass(TimeStamped):
    """A label class of a project. `index` is the class id in model training and YOLO exports."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, validators=[color_validator])
    index = models.PositiveIntegerField()

    class Meta:
        ordering = ["project", "index"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="label_class_unique_name"),
            models.UniqueConstraint(fields=["project", "index"], name="label_class_unique_index"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """CVAT-like roles, each allowed everything the ones below it are (see annotate.permissions)."""

    OWNER = "owner"  # everything, including deleting the project and naming other owners
    MANAGER = "manager"  # settings, classes, members (not owners), clips, exports
    ANNOTATOR = "annotator"  # label: boxes, tracks, accepting, training the clip's model
    VIEWER = "viewer"  # read only


class Membership(TimeStamped):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANNOTATOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]


class VideoStatus(models.TextChoices):
    QUEUED = "queued"
    INGESTING = "ingesting"
    READY = "ready"
    FAILED = "failed"


class Video(TimeStamped):
    """A clip. Decoded exactly once into Frame rows with stored images; frame i is the same picture
    in the UI, the model and every export."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="videos")
    name = models.CharField(max_length=255)
    # Original file name (upload) or server path (import_video).
    source = models.CharField(max_length=1000)
    # The uploaded/imported original while it waits for ingest (media-relative); cleared after.
    source_file = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=VideoStatus.choices, default=VideoStatus.QUEUED)
    error = models.TextField(blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Optional sampling at ingest, like `ffmpeg -vf fps=N,scale=W:-1`.
    sample_fps = models.FloatField(null=True, blank=True)
    max_width = models.PositiveIntegerField(null=True, blank=True)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    ingest_started_at = models.DateTimeField(null=True, blank=True)
    ingest_finished_at = models.DateTimeField(null=True, blank=True)
    # Beaten while an ingest runs (annotate.jobs); the sweep takes a silent one for dead.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # ingest attempts claimed so far
    # The generation whose predictions are shown; switched atomically when a new one succeeds.
    active_generation = models.ForeignKey(
        "Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Pre-label with this generation (of another clip of the project) once the ingest is done.
    start_from = models.ForeignKey(
        "Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return self.name


class Frame(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="frames")
    index = models.PositiveIntegerField()  # 0-based, dense
    timestamp = models.FloatField()  # seconds from the start of the source
    image = models.CharField(max_length=500)  # media-relative path of the stored picture
    # The picture's file name in the source (image folders and zips; empty for video files): label
    # files from other tools name frames this way, so imports match on it first.
    original_name = models.CharField(max_length=255, blank=True)
    # The frame's number in the source before any sampling (0-based decode order).
    source_index = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)  # of the stored image bytes; the frame's ETag
    # First time a person edited, added, deleted or accepted a box on this frame. Model predictions
    # are never written onto a touched frame.
    touched_at = models.DateTimeField(null=True, blank=True)
    # Set: the frame is *finished* (docs/glossary.md): a person decided every box on it (accepted,
    # edited, added or deleted, none left pending) or marked it done. The one stored mark read by the
    # timeline, the API counts, the trainer and exports; kept by annotate.services.frames.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["video", "index"]
        constraints = [models.UniqueConstraint(fields=["video", "index"], name="frame_unique_index")]


class BoxSource(models.TextChoices):
    HUMAN = "human"
    MODEL = "model"


class Track(TimeStamped):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="tracks")
    label_class = models.ForeignKey(LabelClass, on_delete=models.PROTECT, related_name="tracks")
    external_id = models.CharField(max_length=100, blank=True)  # e.g. a MOT id from an import
    source = models.CharField(max_length=10, choices=BoxSource.choices, default=BoxSource.HUMAN)
    generation = models.ForeignKey(
        "Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks"
    )

    class Meta:
        ordering = ["video", "id"]


class ReviewState(models.TextChoices):
    PENDING = "pending"  # a model prediction nobody has looked at yet
    ACCEPTED = "accepted"  # a human box, or a prediction accepted unchanged
    EDITED = "edited"  # a prediction a person corrected


class Box(TimeStamped):
    """An axis-aligned box in pixels of the stored frame image (x, y = top-left corner)."""

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="boxes")
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="boxes")
    label_class = models.ForeignKey(LabelClass, on_delete=models.PROTECT, related_name="boxes")
    x = models.FloatField()
    y = models.FloatField()
    w = models.FloatField()
    h = models.FloatField()
    source = models.CharField(max_length=10, choices=BoxSource.choices, default=BoxSource.HUMAN)
    generation = models.ForeignKey(
        "Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="boxes"
    )
    score = models.FloatField(null=True, blank=True)
    review_state = models.CharField(max_length=10, choices=ReviewState.choices, default=ReviewState.ACCEPTED)
    # Track flags as CVAT and MOT know them: the object is hidden behind something (still boxed where
    # it is thought to be) / has left the view (the box keeps the track's last place, not drawn).
    occluded = models.BooleanField(default=False)
    outside = models.BooleanField(default=False)
    # Optimistic concurrency: an edit names the version it read; a stale one is refused (409).
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["frame", "id"]
        indexes = [models.Index(fields=["frame", "source"], name="box_frame_source")]
        constraints = [
            models.CheckConstraint(condition=Q(w__gt=0) & Q(h__gt=0), name="box_positive_size"),
            models.CheckConstraint(condition=Q(x__gte=0) & Q(y__gte=0), name="box_inside_origin"),
        ]


class GenerationPhase(models.TextChoices):
    TRAINING = "training"
    PRELABELING = "prelabeling"


class Generation(TimeStamped):
    """One training run of a clip's micro-model and the pre-labels it wrote."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="generations")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=20, choices=GenerationPhase.choices, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    epochs_total = models.PositiveIntegerField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    # "from scratch" or the path of the weights training started from.
    base_weights = models.CharField(max_length=500, blank=True)
    base_weights_sha256 = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=200, blank=True)  # which model ran and from what, in words
    # What the engine proposed, kept so the live figures can score it after people changed the boxes:
    # {"<frame index>": [[x, y, w, h, class index], ...]} for the fused pre-labels and the detector alone.
    proposed_boxes = models.JSONField(default=dict)
    detector_boxes = models.JSONField(default=dict)
    # Recall/precision at IoU 0.5 on the frames people corrected after this generation (see
    # annotate.selectors.live_figures); refreshed when the dashboard reads it.
    live_figures = models.JSONField(default=dict)
    trained_frames = models.JSONField(default=list)  # frame indices with human boxes it trained on
    metrics = models.JSONField(default=dict)
    loss_history = models.JSONField(default=list)  # [{"epoch": 1, "box": .., "cls": .., "dfl": ..}, ...]
    checkpoint_path = models.CharField(max_length=500, blank=True)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    prelabel_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Set on a clip's generation 0: no training, the other clip's generation's model pre-labels this
    # clip (its checkpoint copied here, so generation 1 warm-starts from it).
    transferred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # beaten while it runs (annotate.jobs)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["video", "number"]
        constraints = [
            models.UniqueConstraint(fields=["video", "number"], name="generation_unique_number"),
            # One run at a time per clip.
            models.UniqueConstraint(
                fields=["video"],
                condition=Q(status__in=["queued", "running"]),
                name="generation_one_active_per_video",
            ),
        ]


class Suggestion(TimeStamped):
    """A frame the engine asks a person to label next, with the reason."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="suggestions")
    # Null: suggested before any generation (diversity pick).
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    frame_index = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    score = models.FloatField(default=0.0)

    class Meta:
        ordering = ["video", "generation", "rank"]


class CorrectionAction(models.TextChoices):
    ACCEPT = "accept"  # prediction(s) accepted unchanged
    EDIT = "edit"  # prediction moved/resized/re-classed
    DELETE = "delete"  # prediction was a false positive
    ADD = "add"  # a person drew a box the model missed


class CorrectionEvent(models.Model):
    """Every human action on a frame, for label-efficiency accounting."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="corrections")
    frame_index = models.PositiveIntegerField()
    box_id = models.BigIntegerField(null=True, blank=True)  # no FK: deleted boxes keep their events
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="corrections"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=CorrectionAction.choices)
    box_count = models.PositiveIntegerField(default=1)  # "accept all on frame" is one action
    iou = models.FloatField(null=True, blank=True)  # edits: IoU between the prediction and the result
    seconds = models.FloatField(null=True, blank=True)  # human time the client measured, when sent
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["video", "created_at"], name="correction_video_time")]


class ExportFormat(models.TextChoices):
    COCO = "coco"
    YOLO = "yolo"
    MOT = "mot"
    CVAT = "cvat"  # CVAT for video 1.1 XML, one per clip
    CVAT_IMAGES = "cvat_images"  # CVAT for images 1.1 XML
    VOC = "voc"  # Pascal VOC Annotations/*.xml
    REDACT = "redact"  # one clip as an mp4 with the boxes of chosen classes blurred or pixelated


class ExportJob(TimeStamped):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    video = models.ForeignKey(Video, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=20, choices=ExportFormat.choices)
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    items_done = models.PositiveIntegerField(default=0)
    items_total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=500, blank=True)  # media-relative path, set only when complete
    box_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # beaten while it runs (annotate.jobs)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]


class ImportFormat(models.TextChoices):
    COCO = "coco"  # COCO instances JSON, or a COCO results list (detector output)
    YOLO = "yolo"  # Ultralytics (data.yaml), Darknet (obj.names) or Label Studio (classes.txt)
    MOT = "mot"  # MOTChallenge gt.txt / det.txt, with labels.txt or the platform's id_classes.json
    CVAT = "cvat"  # CVAT for video 1.1 or CVAT for images 1.1 XML
    LABEL_STUDIO = "label_studio"  # Label Studio JSON export (image tasks, video rectangle sequences)
    VOC = "voc"  # Pascal VOC Annotations/*.xml


class ImportMode(models.TextChoices):
    # The file is the truth for the frames it names: their boxes (and pending predictions) are replaced.
    REPLACE = "replace"
    # The file's boxes are added beside what the frames hold; the same file twice is refused.
    APPEND = "append"


class ImportJob(TimeStamped):
    """A label import into one clip, run on the ``cpu`` queue; all or nothing.

    ``result`` holds the counts of a finished import (or of a dry run: what would be written);
    ``problems`` every per-item problem of a refused one.
    """

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="imports")
    format = models.CharField(max_length=20, choices=ImportFormat.choices)
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    dry_run = models.BooleanField(default=False)
    file = models.CharField(max_length=500, blank=True)  # media-relative upload, removed when the job ends
    file_name = models.CharField(max_length=255, blank=True)  # the uploaded file's own name
    sha256 = models.CharField(max_length=64, blank=True)  # of the uploaded bytes: duplicate imports
    items_done = models.PositiveIntegerField(default=0)
    items_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)
    problems = models.JSONField(default=list)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # claims by a worker; fences a superseded attempt
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # beaten while it runs (annotate.jobs)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["video", "sha256"], name="import_video_sha256")]
