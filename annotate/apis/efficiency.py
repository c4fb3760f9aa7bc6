"""Label-efficiency figures of a clip or a project (definitions in ``annotate.selectors.analytics``)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.permissions import request_user
from annotate.selectors.analytics import efficiency_for_project, efficiency_for_video
from annotate.selectors.projects import project_get_for_user
from annotate.selectors.videos import video_for_user


class VideoEfficiencyApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, video_id: int) -> Response:
        """Accepted / edited / deleted / added boxes, model share and human seconds per box; totals,
        by generation and by annotator."""
        video = video_for_user(user=request_user(request), video_id=video_id)
        figures: dict[str, Any] = efficiency_for_video(video=video)
        return Response(figures)


class ProjectEfficiencyApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, project_id: int) -> Response:
        """The same figures over every clip of the project, by clip, generation number and annotator."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(efficiency_for_project(project=project))


urlpatterns = [
    path("videos/<int:video_id>/efficiency/", VideoEfficiencyApi.as_view(), name="video-efficiency"),
    path("projects/<int:project_id>/efficiency/", ProjectEfficiencyApi.as_view(), name="project-efficiency"),
]
