"""Who is calling, and what their role lets them do.

Roles follow CVAT's project roles, ranked: viewer < annotator < manager < owner; each may do what
the ones below it may.

* viewer: reads everything of the project (clips, frames, boxes, figures), changes nothing.
* annotator: labels (boxes, tracks, accepting, undo), imports labels into a clip, trains the clip's
  model; cannot upload or delete clips, export, or change the project.
* manager: also uploads/deletes/retries clips, exports, changes settings, classes and members
  (except owners).
* owner: also deletes the project and names or removes owners.

Membership itself is enforced by the selectors (a non-member gets 404); these rules decide what a
member may do once the object is known to be visible to them. Every API view checks its rule before
it validates the request body, so a refused caller learns nothing but "not allowed" (403).
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from annotate.errors import ForbiddenError
from annotate.models import Box, ExportJob, Generation, ImportJob, Membership, Project, Role, Track, Video

Person = AbstractBaseUser | AnonymousUser | None  # who asks: a user, an anonymous request, or nobody (a job)


def person(user: Person) -> User | None:
    """The user row to record as the actor; None for nobody or an anonymous request."""
    return cast(User, user) if user is not None and user.is_authenticated else None


RANK: dict[str, int] = {Role.VIEWER: 0, Role.ANNOTATOR: 1, Role.MANAGER: 2, Role.OWNER: 3}
_WHO: dict[str, str] = {
    Role.ANNOTATOR: "an annotator",
    Role.MANAGER: "a project manager",
    Role.OWNER: "the project owner",
}


def request_user(request: Request) -> User:
    """The signed-in user (views run behind IsAuthenticated; this narrows the type)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def role_of(obj: Model) -> str | None:
    """The caller's role, as annotated onto a project or video by the ``*_get_for_user`` selectors."""
    role = getattr(obj, "role", None)
    return role if isinstance(role, str) else None


def project_id_of(obj: Model) -> int:
    """The project an API object belongs to (one small query for a box)."""
    if isinstance(obj, Project):
        return obj.id
    if isinstance(obj, Video | ExportJob):
        return obj.project_id
    if isinstance(obj, Track | Generation | ImportJob):
        return Video.objects.values_list("project_id", flat=True).get(id=obj.video_id)
    if isinstance(obj, Box):
        return Box.objects.values_list("frame__video__project_id", flat=True).get(id=obj.id)
    raise TypeError(f"no project for {type(obj).__name__}")


def caller_role(obj: Model, user: User | None) -> str | None:
    role = role_of(obj)
    if role is None and user is not None:
        role = (
            Membership.objects.filter(project_id=project_id_of(obj), user_id=user.pk)
            .values_list("role", flat=True)
            .first()
        )
    return role


def has_role(role: str | None, minimum: str) -> bool:
    return role is not None and RANK.get(role, -1) >= RANK[minimum]


def require_role(obj: Model, minimum: str, *, user: User | None = None, action: str = "do this") -> None:
    """Refuse (403) unless the caller's role on the object's project is at least ``minimum``.

    The role comes from the object's ``role`` annotation when a selector set it, else from the
    caller's membership (pass ``user``)."""
    if not has_role(caller_role(obj, user), minimum):
        raise ForbiddenError(f"Only {_WHO.get(minimum, minimum)} or above may {action}.")


def require_annotator(obj: Model, *, user: User | None = None, action: str = "change labels") -> None:
    """Labeling: viewers only look."""
    require_role(obj, Role.ANNOTATOR, user=user, action=action)


def require_manager(obj: Model, *, user: User | None = None, action: str = "do this") -> None:
    """Members, classes, settings, clips, exports, deletions."""
    require_role(obj, Role.MANAGER, user=user, action=action)


def require_owner(obj: Model, *, user: User | None = None, action: str = "do this") -> None:
    """Deleting the project; naming or removing owners."""
    require_role(obj, Role.OWNER, user=user, action=action)
