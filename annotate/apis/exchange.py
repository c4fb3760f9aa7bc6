"""Exports (background jobs with a download) and label imports into a clip (background jobs too)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.exchange import (
    ExportCreateSerializer,
    ExportJobSerializer,
    ImportJobSerializer,
    ImportSerializer,
)
from annotate.permissions import request_user, require_annotator, require_manager
from annotate.selectors.exports import export_job_get_for_user, export_job_list
from annotate.selectors.imports import import_job_get_for_user, import_job_list
from annotate.selectors.projects import project_get_for_user
from annotate.selectors.videos import video_get_for_user
from annotate.services.exports import export_job_cancel, export_job_create, export_job_path
from annotate.services.import_jobs import import_job_cancel, import_job_create


class ExportListApi(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=ExportJobSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="see exports")
        jobs = export_job_list(project=project)[:100]
        return Response(ExportJobSerializer(jobs, many=True, context={"request": request}).data)

    @extend_schema(request=ExportCreateSerializer, responses={202: ExportJobSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        """Start an export; poll the job (``status``, ``items_done``/``items_total``), then download."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="export the project")
        data = ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options: dict[str, Any] = dict(data.validated_data)
        export_format = options.pop("format")
        job = export_job_create(
            project=project, format=export_format, options=options, created_by=request_user(request)
        )
        body = ExportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportJobSerializer)
    def get(self, request: Request, export_id: int) -> Response:
        job = export_job_get_for_user(user=request_user(request), job_id=export_id)
        require_manager(job, user=request_user(request), action="see exports")
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportCancelApi(APIView):
    @extend_schema(request=None, responses=ExportJobSerializer)
    def post(self, request: Request, export_id: int) -> Response:
        job = export_job_get_for_user(user=request_user(request), job_id=export_id)
        require_manager(job, user=request_user(request), action="cancel exports")
        job = export_job_cancel(job=job)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, export_id: int) -> FileResponse:
        job = export_job_get_for_user(user=request_user(request), job_id=export_id)
        require_manager(job, user=request_user(request), action="download exports")
        file_path = export_job_path(job=job)
        content_type = {".json": "application/json", ".mp4": "video/mp4"}.get(
            file_path.suffix, "application/zip"
        )
        return FileResponse(
            file_path.open("rb"), as_attachment=True, filename=file_path.name, content_type=content_type
        )


class VideoImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=ImportJobSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        video = video_get_for_user(user=request_user(request), video_id=video_id)
        return Response(ImportJobSerializer(import_job_list(video=video)[:100], many=True).data)

    @extend_schema(request={"multipart/form-data": ImportSerializer}, responses={202: ImportJobSerializer})
    def post(self, request: Request, video_id: int) -> Response:
        """Queue a label import into the clip (all or nothing); poll the job for progress, then its
        ``result`` or, when refused, ``problems`` (one per bad item). ``dry_run``: count, write nothing."""
        video = video_get_for_user(user=request_user(request), video_id=video_id)
        require_annotator(video, action="import labels")
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if fields["create_classes"]:
            require_manager(video, action="add classes")
        upload = fields.pop("file")
        dry_run = fields.pop("dry_run")
        job = import_job_create(
            video=video, upload=upload, options=fields, dry_run=dry_run, created_by=request_user(request)
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(responses=ImportJobSerializer)
    def get(self, request: Request, import_id: int) -> Response:
        job = import_job_get_for_user(user=request_user(request), job_id=import_id)
        return Response(ImportJobSerializer(job).data)


class ImportCancelApi(APIView):
    @extend_schema(request=None, responses=ImportJobSerializer)
    def post(self, request: Request, import_id: int) -> Response:
        user = request_user(request)
        job = import_job_get_for_user(user=user, job_id=import_id)
        require_annotator(job, user=user, action="cancel label imports")
        return Response(ImportJobSerializer(import_job_cancel(job=job)).data)


urlpatterns = [
    path("projects/<int:project_id>/exports/", ExportListApi.as_view(), name="export-list"),
    path("exports/<int:export_id>/", ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:export_id>/cancel/", ExportCancelApi.as_view(), name="export-cancel"),
    path("exports/<int:export_id>/download", ExportDownloadApi.as_view(), name="export-download"),
    path("videos/<int:video_id>/imports/", VideoImportApi.as_view(), name="video-import"),
    path("imports/<int:import_id>/", ImportDetailApi.as_view(), name="import-detail"),
    path("imports/<int:import_id>/cancel/", ImportCancelApi.as_view(), name="import-cancel"),
]
