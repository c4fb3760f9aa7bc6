"""Frames of a clip: the range listing and the image bytes (the annotation UI's hot path)."""

from __future__ import annotations

import mimetypes
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.videos import FrameRangeSerializer, FrameSerializer, FrameSummarySerializer
from annotate.errors import NotFoundError
from annotate.permissions import request_user, require_annotator
from annotate.selectors.frames import frame_image_for_user, frame_list, frame_summary
from annotate.selectors.videos import video_for_user
from annotate.services.corrections import frame_leave

# Frame images never change once stored (a new picture means a new frame row and sha256).
IMMUTABLE_CACHE = "private, max-age=31536000, immutable"


class FrameListApi(APIView):
    @extend_schema(parameters=[FrameRangeSerializer], responses=FrameSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        """Frames with ``start <= index <= end`` (both optional), then ``offset``/``limit``."""
        query = FrameRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        video = video_for_user(user=request_user(request), video_id=video_id)
        frames = frame_list(video=video, start=q.get("start"), end=q.get("end"))
        offset = q["offset"]
        frames = frames[offset : offset + q["limit"]] if "limit" in q else frames[offset:]
        prefix = reverse("api:frame-image", kwargs={"video_id": video.id, "index": 0}).removesuffix("0/image")
        return Response(FrameSerializer(frames, many=True, context={"image_url_prefix": prefix}).data)


class FrameSummaryApi(APIView):
    @extend_schema(responses=FrameSummarySerializer)
    def get(self, request: Request, video_id: int) -> Response:
        """Frames finished, pre-labeled and human-labeled, and how many more finished frames start
        the next automatic generation."""
        video = video_for_user(user=request_user(request), video_id=video_id)
        return Response(FrameSummarySerializer(frame_summary(video=video)).data)


class FrameLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, video_id: int, index: int) -> Response:
        """The labeler moved on from frame ``index``: if it is finished, the clip may start its next
        generation automatically (never while a frame is half done)."""
        user = request_user(request)
        video = video_for_user(user=user, video_id=video_id)
        require_annotator(video, user=user, action="start generations")
        frame_leave(video=video, frame_index=index)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


class FrameImageApi(APIView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # Browsers ask for image/*; errors still render as JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored frame image."),
            304: OpenApiResponse(description="If-None-Match matched the frame's ETag."),
        }
    )
    def get(self, request: Request, video_id: int, index: int) -> HttpResponseBase:
        image = frame_image_for_user(user=request_user(request), video_id=video_id, index=index)
        etag = f'"{image.sha256}"'
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response: HttpResponseBase = HttpResponse(status=304)
        else:
            try:
                handle = default_storage.open(image.path, "rb")
            except FileNotFoundError as exc:
                raise NotFoundError("The frame's image file is missing from storage.") from exc
            content_type = mimetypes.guess_type(image.path)[0] or "application/octet-stream"
            response = FileResponse(handle, content_type=content_type)
        response["ETag"] = etag
        response["Cache-Control"] = IMMUTABLE_CACHE
        return response


urlpatterns = [
    path("videos/<int:video_id>/frames/", FrameListApi.as_view(), name="frame-list"),
    path("videos/<int:video_id>/frames/summary/", FrameSummaryApi.as_view(), name="frame-summary"),
    path("videos/<int:video_id>/frames/<int:index>/image", FrameImageApi.as_view(), name="frame-image"),
    path("videos/<int:video_id>/frames/<int:index>/leave/", FrameLeaveApi.as_view(), name="frame-leave"),
]
