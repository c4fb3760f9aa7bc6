"""Errors raised by services and selectors.

Services raise these plain exceptions (no DRF import needed there); the API's exception handler
(annotate.apis.exceptions) turns them into 400 / 403 / 404 / 409 responses with a JSON body
``{"detail": ..., "code": ...}``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status


class ServiceError(Exception):
    """A request the domain refuses: bad input or a rule that does not hold (HTTP 400)."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        if self.field:
            return {self.field: [self.message], "detail": self.message, "code": self.code}
        return {"detail": self.message, "code": self.code}


class NotFoundError(ServiceError):
    """The object does not exist, or the caller may not know that it does (HTTP 404)."""

    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class ForbiddenError(ServiceError):
    """The caller is a member but their role does not allow this (HTTP 403)."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class ConflictError(ServiceError):
    """The write lost a race or clashes with the current state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class StaleVersionError(ConflictError):
    """An optimistic-concurrency check failed; ``current`` is the row as it is now."""

    code = "stale_version"

    def __init__(self, message: str, *, current: Any) -> None:
        super().__init__(message)
        self.current = current
