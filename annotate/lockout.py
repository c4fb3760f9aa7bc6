"""What a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE), the same words everywhere.

The message does not say which of the two limits (the account's or the address's) was reached, so it
does not tell a guesser whether a username exists.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed sign-ins for this account or from this address: signing in is blocked for "
        f"{minutes} minutes. Wait and try again, or ask an administrator to unlock the account."
    )


def lockout_response(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    return HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request (the forms, the token endpoint).

    ``authenticate()`` without a request (a management command, a script checking a password) has
    no client to lock out; django-axes would raise, so the check is skipped and the next backend
    decides.
    """

    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
