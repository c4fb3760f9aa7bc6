"""Projects, their label classes and their members.

Names are stored exactly as given: a class called ``<script>`` is data, rendered as text by every
client, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from annotate.errors import ConflictError, ServiceError
from annotate.models import Box, LabelClass, Membership, Project, Role, Track, color_validator

# Distinct, readable on dark and light frames (Tableau 10).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

ClassSpec = str | tuple[str, str] | dict[str, str]
PROJECT_FIELDS = (
    "name",
    "base_weights",
    "auto_train",
    "auto_train_after_frames",
    "train_from_scratch",
    "train_time_budget",
)


def palette_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _clean_name(name: Any, *, what: str, field: str, max_length: int) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError(f"{what} must not be empty.", field=field)
    if len(name) > max_length:
        raise ServiceError(f"{what} must be at most {max_length} characters.", field=field)
    return name


def _clean_color(color: str) -> str:
    try:
        color_validator(color)
    except Exception as exc:
        raise ServiceError("Colour must look like #RRGGBB.", field="color") from exc
    return color.lower()


def _split_spec(spec: ClassSpec) -> tuple[Any, str | None]:
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, dict):
        return spec.get("name"), spec.get("color") or None
    name, color = spec
    return name, color or None


def _clean_base_weights(path: str) -> str:
    """Empty (the platform default) or a ``.pt`` file inside ``ANNOTATE_WEIGHTS_ROOTS``; a bare file
    name is looked up in the first root. The training worker unpickles this file, so a project must
    not be able to point it at any other file on the server."""
    path = (path or "").strip()
    if not path:
        return ""
    roots: list[Path] = list(settings.ANNOTATE_WEIGHTS_ROOTS)
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and roots:
        candidate = roots[0] / candidate
    resolved = candidate.resolve()
    if resolved.suffix != ".pt" or not any(resolved.is_relative_to(root) for root in roots):
        folders = ", ".join(str(root) for root in roots) or "(none configured)"
        raise ServiceError(
            f"Base weights must be a .pt file inside {folders} (see ANNOTATE_WEIGHTS_ROOTS).",
            field="base_weights",
        )
    return str(resolved)


@transaction.atomic
def project_create(
    *,
    name: str,
    classes: Sequence[ClassSpec],
    created_by: User | None = None,
    base_weights: str = "",
) -> Project:
    """A project with its label classes (index 0.. in the given order) and its creator as owner.

    ``classes`` holds names, ``(name, color)`` pairs or ``{"name", "color"}`` dicts; a missing colour
    is taken from the palette by index.
    """
    name = _clean_name(name, what="Project name", field="name", max_length=200)
    if not classes:
        raise ServiceError("A project needs at least one label class.", field="classes")
    cleaned: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, spec in enumerate(classes):
        class_name, color = _split_spec(spec)
        class_name = _clean_name(class_name, what="Class name", field="classes", max_length=100)
        if class_name in seen:
            raise ServiceError(f"Class name {class_name!r} is given twice.", field="classes")
        seen.add(class_name)
        cleaned.append((class_name, _clean_color(color) if color else palette_color(index)))

    project = Project.objects.create(
        name=name, base_weights=_clean_base_weights(base_weights), created_by=created_by
    )
    LabelClass.objects.bulk_create(
        LabelClass(project=project, name=class_name, color=color, index=index)
        for index, (class_name, color) in enumerate(cleaned)
    )
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Role.OWNER)
    return project


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    """Change any of PROJECT_FIELDS; ``train_time_budget`` None means the platform default."""
    unknown = set(changes) - set(PROJECT_FIELDS)
    if unknown:
        raise ServiceError(f"Unknown project fields: {', '.join(sorted(unknown))}.")
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"], what="Project name", field="name", max_length=200)
    if "base_weights" in changes:
        changes["base_weights"] = _clean_base_weights(changes["base_weights"])
    if "auto_train_after_frames" in changes and int(changes["auto_train_after_frames"]) < 1:
        raise ServiceError("auto_train_after_frames must be at least 1.", field="auto_train_after_frames")
    for field, value in changes.items():
        setattr(project, field, value)
    if changes:
        project.save(update_fields=[*changes, "updated_at"])
    return project


# -- label classes ---------------------------------------------------------------------------------


def _class_name_taken(project: Project, name: str, *, exclude_id: int | None = None) -> bool:
    qs = LabelClass.objects.filter(project=project, name=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return qs.exists()


@transaction.atomic
def label_class_create(*, project: Project, name: str, color: str | None = None) -> LabelClass:
    """A new class at the next free index."""
    name = _clean_name(name, what="Class name", field="name", max_length=100)
    # Lock the project row so two concurrent creates do not take the same index.
    Project.objects.select_for_update().filter(id=project.id).first()
    if _class_name_taken(project, name):
        raise ConflictError(f"This project already has a class named {name!r}.")
    top = LabelClass.objects.filter(project=project).aggregate(top=Max("index"))["top"]
    index = 0 if top is None else top + 1
    return LabelClass.objects.create(
        project=project, name=name, color=_clean_color(color) if color else palette_color(index), index=index
    )


@transaction.atomic
def label_class_update(
    *, label_class: LabelClass, name: str | None = None, color: str | None = None
) -> LabelClass:
    """Rename or recolour a class; its index (the model's class id) never changes."""
    fields: list[str] = []
    if name is not None:
        name = _clean_name(name, what="Class name", field="name", max_length=100)
        if _class_name_taken(label_class.project, name, exclude_id=label_class.id):
            raise ConflictError(f"This project already has a class named {name!r}.")
        label_class.name = name
        fields.append("name")
    if color is not None:
        label_class.color = _clean_color(color)
        fields.append("color")
    if fields:
        label_class.save(update_fields=[*fields, "updated_at"])
    return label_class


@transaction.atomic
def label_class_delete(*, label_class: LabelClass, delete_boxes: bool = False) -> int:
    """Delete a class; returns how many boxes went with it.

    A class in use is refused (409, with the count) unless ``delete_boxes`` says the caller saw that
    count and wants those boxes (and their tracks) gone too, so no label is lost silently. The
    remaining classes keep their order and close the gap (indices stay 0..n-1, the class ids of
    YOLO exports and of the next generation)."""
    project = label_class.project
    Project.objects.select_for_update().filter(id=project.id).first()
    boxes = Box.objects.filter(label_class=label_class)
    count = boxes.count()
    in_use = count or Track.objects.filter(label_class=label_class).exists()
    if in_use and not delete_boxes:
        raise ConflictError(
            f"Class {label_class.name!r} is used by {count} box{'es' if count != 1 else ''}; "
            "delete them with it, or relabel them first."
        )
    boxes.delete()
    Track.objects.filter(label_class=label_class).delete()
    label_class.delete()
    _renumber(project, list(LabelClass.objects.filter(project=project).order_by("index")))
    return count


def _renumber(project: Project, ordered: list[LabelClass]) -> None:
    # Two steps, so no intermediate state breaks the unique (project, index) constraint.
    top = len(ordered) + (LabelClass.objects.filter(project=project).aggregate(top=Max("index"))["top"] or 0)
    for offset, label_class in enumerate(ordered):
        LabelClass.objects.filter(id=label_class.id).update(index=top + 1 + offset)
    for index, label_class in enumerate(ordered):
        LabelClass.objects.filter(id=label_class.id).update(index=index)
        label_class.index = index


@transaction.atomic
def label_class_reorder(*, project: Project, class_ids: Sequence[int]) -> list[LabelClass]:
    """Put the project's classes in this order (every class exactly once). The index is the class id
    in exports and in the next generation's training, so later exports number classes anew."""
    Project.objects.select_for_update().filter(id=project.id).first()
    classes = {c.id: c for c in LabelClass.objects.filter(project=project)}
    if sorted(class_ids) != sorted(classes) or len(set(class_ids)) != len(class_ids):
        raise ServiceError("Give every class of the project exactly once.", field="classes")
    ordered = [classes[class_id] for class_id in class_ids]
    _renumber(project, ordered)
    return ordered


# -- members ---------------------------------------------------------------------------------------


def _other_owners(project: Project, membership_id: int) -> bool:
    return Membership.objects.filter(project=project, role=Role.OWNER).exclude(id=membership_id).exists()


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise ServiceError(f"Role must be one of: {', '.join(Role.values)}.", field="role")
    return role


@transaction.atomic
def membership_add(*, project: Project, user: User, role: str = Role.ANNOTATOR) -> Membership:
    role = _clean_role(role)
    if Membership.objects.filter(project=project, user=user).exists():
        raise ConflictError(f"{user.get_username()} is already a member of this project.")
    return Membership.objects.create(project=project, user=user, role=role)


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the last owner cannot be demoted (only an owner names or demotes owners:
    the API checks that)."""
    role = _clean_role(role)
    # Lock the project's memberships so two concurrent demotions cannot both pass the check.
    list(Membership.objects.select_for_update().filter(project_id=membership.project_id))
    demoting = membership.role == Role.OWNER and role != Role.OWNER
    if demoting and not _other_owners(membership.project, membership.id):
        raise ConflictError("A project needs at least one owner; make someone else owner first.")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; the last owner cannot be removed."""
    list(Membership.objects.select_for_update().filter(project_id=membership.project_id))
    if membership.role == Role.OWNER and not _other_owners(membership.project, membership.id):
        raise ConflictError("A project needs at least one owner; make someone else owner first.")
    membership.delete()
