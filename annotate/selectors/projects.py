"""Projects the user belongs to, with the caller's role, and their classes and members."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from annotate.errors import NotFoundError
from annotate.models import LabelClass, Membership, Project


def _with_role(qs: QuerySet[Project], user: User) -> QuerySet[Project]:
    role = Membership.objects.filter(project=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return qs.annotate(role=Subquery(role)).prefetch_related(
        Prefetch("classes", queryset=LabelClass.objects.order_by("index"))
    )


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    """Projects the user is a member of, each annotated with ``role``; newest first."""
    qs = Project.objects.filter(memberships__user_id=user.pk).order_by("-created_at", "-id")
    return _with_role(qs, user)


def project_get_for_user(*, user: User, project_id: int) -> Project:
    """The project with ``role`` set to the caller's role; NotFoundError for non-members."""
    project = project_list_for_user(user=user).filter(id=project_id).first()
    if project is None:
        raise NotFoundError("No such project.")
    return project


def project_role(*, user: User, project_id: int) -> str | None:
    """The user's role in the project, or None when not a member."""
    roles = Membership.objects.filter(project_id=project_id, user_id=user.pk).values_list("role", flat=True)
    return roles.first()


def label_class_list(*, project: Project) -> QuerySet[LabelClass]:
    """The project's classes in index order, each with ``box_count`` (what deleting it would delete)."""
    return LabelClass.objects.filter(project=project).annotate(box_count=Count("boxes")).order_by("index")


def label_class_get(*, project: Project, class_id: int) -> LabelClass:
    label_class = LabelClass.objects.filter(project=project, id=class_id).select_related("project").first()
    if label_class is None:
        raise NotFoundError("No such class in this project.")
    return label_class


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("id")


def membership_get(*, project: Project, membership_id: int) -> Membership:
    membership = membership_list(project=project).select_related("project").filter(id=membership_id).first()
    if membership is None:
        raise NotFoundError("No such member in this project.")
    return membership


def _pinned_sha256(path: Path) -> str | None:
    pin = path.with_name(path.name + ".sha256")
    text = pin.read_text().strip() if pin.is_file() else ""
    return text.split()[0] if text else None


def project_base_weights(*, project: Project) -> dict[str, Any]:
    """What a clip's first generation starts from, for the settings page: the configured file (or the
    platform default), whether it is there, its pinned sha256 (``fetch_weights``), and the .pt files
    available in the weights folders. Later generations start from the clip's previous checkpoint."""
    configured = project.base_weights or settings.ANNOTATE_BASE_WEIGHTS
    path = Path(configured) if configured else None
    exists = bool(path and path.is_file())
    available = []
    for root in settings.ANNOTATE_WEIGHTS_ROOTS:
        for candidate in sorted(Path(root).glob("*.pt")) if Path(root).is_dir() else []:
            available.append(
                {"path": str(candidate), "name": candidate.name, "sha256": _pinned_sha256(candidate)}
            )
    if project.train_from_scratch:
        starts = "from scratch (chosen on the settings page)"
    elif exists:
        starts = str(path)
    else:
        starts = "from scratch (the base weights file is not there; fetch it with manage.py fetch_weights)"
    return {
        "configured": project.base_weights,
        "platform_default": settings.ANNOTATE_BASE_WEIGHTS,
        "path": str(path) if path else "",
        "exists": exists,
        "sha256": _pinned_sha256(path) if exists and path else None,
        "from_scratch": project.train_from_scratch,
        "first_generation_starts": starts,
        "train_time_budget_default": settings.ANNOTATE_TRAIN_TIME_BUDGET,
        "available": available,
    }
