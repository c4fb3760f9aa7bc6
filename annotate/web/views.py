"""Page views. They choose a template and pass ids; the pages load their data from /api/.

A page for a project or clip that does not exist, or that the user may not see, is a plain 404 page
(the same answer for both, as the API gives): never a live-looking workspace with nothing behind it.
The views set the CSRF cookie the page's fetch calls send back in the ``X-CSRFToken`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from annotate.errors import NotFoundError
from annotate.selectors.projects import project_get_for_user
from annotate.selectors.videos import video_for_user

FAVICON = Path(__file__).resolve().parents[2] / "frontend" / "static" / "annotate" / "favicon.svg"


def _page(request: HttpRequest, template: str, **ids: int) -> HttpResponse:
    return render(request, f"annotate/{template}", {"ids": ids})


def not_found(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "annotate/not_found.html", {"what": what, "ids": {}}, status=404)


def _member_page(kind: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Render the page only for an id the user may see; a plain 404 page otherwise."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, **ids: int) -> HttpResponse:
            user = cast(User, request.user)  # login_required let only a signed-in user through
            try:
                if kind == "project":
                    project_get_for_user(user=user, project_id=ids["project_id"])
                else:
                    video_for_user(user=user, video_id=ids["video_id"])
            except NotFoundError:
                return not_found(request, kind)
            return view(request, **ids)

        return login_required(ensure_csrf_cookie(wrapped))

    return decorate


@login_required
@ensure_csrf_cookie
def project_list(request: HttpRequest) -> HttpResponse:
    return _page(request, "projects.html")


@_member_page("project")
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "project.html", project_id=project_id)


@_member_page("project")
def project_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "settings.html", project_id=project_id)


@_member_page("project")
def project_dashboard(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "dashboard.html", project_id=project_id)


@_member_page("clip")
def video_workspace(request: HttpRequest, video_id: int) -> HttpResponse:
    return _page(request, "workspace.html", video_id=video_id)


@_member_page("clip")
def video_dashboard(request: HttpRequest, video_id: int) -> HttpResponse:
    return _page(request, "dashboard.html", video_id=video_id)


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page says (an SVG icon)."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: an unknown address gets the same plain page as a missing id."""
    return not_found(request, "page")
