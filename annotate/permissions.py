"""Who is calling, and what their role lets them do.

Membership itself is enforced by the selectors (a non-member gets 404); these rules decide what a
member may do once the object is known to be visible to them.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Model
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from annotate.errors import ForbiddenError
from annotate.models import Role


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


def require_manager(obj: Model, *, action: str = "do this") -> None:
    """Refuse (403) unless the caller manages the object's project: members, classes, settings,
    deletions."""
    if role_of(obj) != Role.MANAGER:
        raise ForbiddenError(f"Only a project manager may {action}.")
