"""Page views. They only choose a template and pass ids; the pages load their data from /api/.

Access control is the API's: a page for a project or clip the user may not see renders, then shows
the API's "not found" in place of the data. The views set the CSRF cookie the page's fetch calls
send back in the ``X-CSRFToken`` header.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


def _page(request: HttpRequest, template: str, **ids: int) -> HttpResponse:
    return render(request, f"annotate/{template}", {"ids": ids})


@login_required
@ensure_csrf_cookie
def project_list(request: HttpRequest) -> HttpResponse:
    return _page(request, "projects.html")


@login_required
@ensure_csrf_cookie
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "project.html", project_id=project_id)


@login_required
@ensure_csrf_cookie
def project_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "settings.html", project_id=project_id)


@login_required
@ensure_csrf_cookie
def project_dashboard(request: HttpRequest, project_id: int) -> HttpResponse:
    return _page(request, "dashboard.html", project_id=project_id)


@login_required
@ensure_csrf_cookie
def video_workspace(request: HttpRequest, video_id: int) -> HttpResponse:
    return _page(request, "workspace.html", video_id=video_id)


@login_required
@ensure_csrf_cookie
def video_dashboard(request: HttpRequest, video_id: int) -> HttpResponse:
    return _page(request, "dashboard.html", video_id=video_id)
