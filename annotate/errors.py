"""Errors raised by services and selectors, and the DRF exception handler that maps them to HTTP.

Services raise these plain exceptions (no DRF import needed there); the API turns them into
400 / 403 / 404 / 409 responses with a JSON body ``{"detail": ..., "code": ...}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def _serialize_current(current: Any) -> Any:
    # Local import: serializers import models, and services import this module.
    from annotate.apis.serializers.boxes import BoxSerializer
    from annotate.models import Box

    return BoxSerializer(current).data if isinstance(current, Box) else current


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK['EXCEPTION_HANDLER']: service errors become JSON with the right status."""
    if isinstance(exc, StaleVersionError):
        return Response(
            {"detail": exc.message, "code": exc.code, "current": _serialize_current(exc.current)},
            status=exc.status_code,
        )
    if isinstance(exc, ServiceError):
        return Response(exc.body(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": " ".join(exc.messages), "code": "invalid"}, status=400)
    if isinstance(exc, DataError):
        # A value the serializer let through but the database cannot hold (an integer past its range).
        body = {"detail": "A value is out of the range the server can store.", "code": "invalid"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A concurrent request won a uniqueness race the service had checked for (same name, same member).
        body = {"detail": "This conflicts with a concurrent change; reload and retry.", "code": "conflict"}
        return Response(body, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
