"""Projects: list, create, read, change settings, delete."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.projects import (
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectSettingsSerializer,
    ProjectUpdateSerializer,
)
from annotate.permissions import request_user, require_manager, require_owner
from annotate.selectors.projects import project_get_for_user, project_list_for_user
from annotate.services.projects import project_create, project_update
from annotate.services.removal import project_delete


class ProjectListApi(APIView):
    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request: Request) -> Response:
        projects = project_list_for_user(user=request_user(request))
        return Response(ProjectSerializer(projects, many=True).data)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def post(self, request: Request) -> Response:
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = project_create(**data.validated_data, created_by=request_user(request))
        project = project_get_for_user(user=request_user(request), project_id=created.id)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectSettingsSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(ProjectSettingsSerializer(project).data)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSettingsSerializer)
    def patch(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="change project settings")
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project_update(project=project, **data.validated_data)
        return Response(ProjectSettingsSerializer(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_owner(project, action="delete the project")
        project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("projects/", ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", ProjectDetailApi.as_view(), name="project-detail"),
]
