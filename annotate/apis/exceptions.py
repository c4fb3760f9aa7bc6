"""The DRF exception handler: service errors (annotate.errors) become JSON with the right status."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotate.apis.serializers.boxes import BoxSerializer
from annotate.errors import ServiceError, StaleVersionError
from annotate.models import Box


def _serialize_current(current: Any) -> Any:
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
