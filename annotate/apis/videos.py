"""Clips of a project: list, upload, read, delete."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.videos import VideoSerializer, VideoUploadSerializer
from annotate.permissions import request_user, require_manager
from annotate.selectors.projects import project_get_for_user
from annotate.selectors.videos import video_get_for_user, video_list
from annotate.services.removal import video_delete
from annotate.services.videos import video_create_from_upload, video_ingest_retry
from annotate.uploads import UploadParser


class VideoListApi(APIView):
    parser_classes = [UploadParser, FormParser]

    @extend_schema(responses=VideoSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(VideoSerializer(video_list(project=project), many=True).data)

    @extend_schema(request={"multipart/form-data": VideoUploadSerializer}, responses={202: VideoSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        """Upload a clip; it is decoded into frames in the background (watch ``status``/``progress``)."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="upload clips")
        data = VideoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        created = video_create_from_upload(
            project=project,
            uploaded_file=fields["file"],
            name=fields.get("name"),
            sample_fps=fields.get("sample_fps"),
            max_width=fields.get("max_width"),
            created_by=request_user(request),
        )
        video = video_get_for_user(user=request_user(request), video_id=created.id)
        return Response(VideoSerializer(video).data, status=status.HTTP_202_ACCEPTED)


class VideoDetailApi(APIView):
    @extend_schema(responses=VideoSerializer)
    def get(self, request: Request, video_id: int) -> Response:
        return Response(
            VideoSerializer(video_get_for_user(user=request_user(request), video_id=video_id)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, video_id: int) -> Response:
        video = video_get_for_user(user=request_user(request), video_id=video_id)
        require_manager(video, action="delete videos")
        video_delete(video=video)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VideoRetryApi(APIView):
    @extend_schema(request=None, responses={202: VideoSerializer})
    def post(self, request: Request, video_id: int) -> Response:
        """Queue a failed clip's ingest again (409 when it is not failed or its upload is gone)."""
        video = video_get_for_user(user=request_user(request), video_id=video_id)
        require_manager(video, action="retry clips")
        video_ingest_retry(video=video)
        video = video_get_for_user(user=request_user(request), video_id=video_id)
        return Response(VideoSerializer(video).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("projects/<int:project_id>/videos/", VideoListApi.as_view(), name="video-list"),
    path("videos/<int:video_id>/", VideoDetailApi.as_view(), name="video-detail"),
    path("videos/<int:video_id>/retry/", VideoRetryApi.as_view(), name="video-retry"),
]
