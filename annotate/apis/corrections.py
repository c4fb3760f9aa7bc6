"""Accepting predictions: one box, or every pending prediction on a frame as one action."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.boxes import BoxConflictSerializer, BoxSerializer
from annotate.apis.serializers.corrections import (
    AcceptAllResultSerializer,
    AcceptAllSerializer,
    AcceptSerializer,
)
from annotate.permissions import request_user, require_annotator
from annotate.selectors.boxes import box_get_for_user
from annotate.selectors.videos import video_for_user
from annotate.services.corrections import box_accept, frame_accept_all


class BoxAcceptApi(APIView):
    @extend_schema(
        request=AcceptSerializer,
        responses={
            200: BoxSerializer,
            409: OpenApiResponse(BoxConflictSerializer, description="Stale or reviewed."),
        },
    )
    def post(self, request: Request, box_id: int) -> Response:
        """Keep a pending prediction unchanged (review state ``accepted``; the frame counts as touched)."""
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="accept predictions")
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        accepted = box_accept(box_id=box.id, user=request_user(request), **data.validated_data)
        return Response(BoxSerializer(accepted).data)


class FrameAcceptAllApi(APIView):
    @extend_schema(request=AcceptAllSerializer, responses=AcceptAllResultSerializer)
    def post(self, request: Request, video_id: int, index: int) -> Response:
        """Accept every pending prediction on the frame as one action and mark the frame reviewed."""
        user = request_user(request)
        video = video_for_user(user=user, video_id=video_id)
        require_annotator(video, user=user, action="accept predictions")
        data = AcceptAllSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = frame_accept_all(video=video, frame_index=index, user=user, **data.validated_data)
        body = {"frame_index": index, "accepted": len(result.boxes), "event": result.event_id}
        return Response({**body, "boxes": BoxSerializer(result.boxes, many=True).data})


urlpatterns = [
    path("boxes/<int:box_id>/accept/", BoxAcceptApi.as_view(), name="box-accept"),
    path(
        "videos/<int:video_id>/frames/<int:index>/accept-all/",
        FrameAcceptAllApi.as_view(),
        name="frame-accept-all",
    ),
]
