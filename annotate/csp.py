"""Content-Security-Policy on every response (Django 5.2 has no CSP of its own): settings.ANNOTATE_CSP."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.ANNOTATE_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.ANNOTATE_CSP
        return response
