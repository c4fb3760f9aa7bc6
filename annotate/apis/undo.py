"""Undo of a person's own box actions: each takes back one action and its correction event."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.boxes import BoxConflictSerializer, BoxSerializer
from annotate.apis.serializers.undo import (
    AcceptAllUndoSerializer,
    BoxRestoreSerializer,
    BoxUndoEditSerializer,
    BoxVersionSerializer,
)
from annotate.permissions import request_user, require_annotator
from annotate.selectors.boxes import box_get_for_user
from annotate.selectors.videos import video_for_user
from annotate.services.undo import (
    box_restore,
    box_unaccept,
    box_undo_create,
    box_undo_edit,
    frame_unaccept_all,
)

CONFLICT = OpenApiResponse(BoxConflictSerializer, description="Stale, or not the caller's action to undo.")


class BoxRestoreApi(APIView):
    @extend_schema(request=BoxRestoreSerializer, responses={201: BoxSerializer, 409: CONFLICT})
    def post(self, request: Request, video_id: int) -> Response:
        """Undo deleting a box: it comes back under its id (a prediction with its provenance)."""
        user = request_user(request)
        video = video_for_user(user=user, video_id=video_id)
        require_annotator(video, user=user, action="undo label changes")
        data = BoxRestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        box = box_restore(video=video, user=user, **data.validated_data)
        return Response(BoxSerializer(box).data, status=status.HTTP_201_CREATED)


class BoxUndoCreateApi(APIView):
    @extend_schema(request=BoxVersionSerializer, responses={204: None, 409: CONFLICT})
    def post(self, request: Request, box_id: int) -> Response:
        """Undo drawing a box: it is deleted and its ``add`` event removed."""
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="undo label changes")
        data = BoxVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        box_undo_create(box_id=box.id, user=request_user(request), **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BoxUndoEditApi(APIView):
    @extend_schema(request=BoxUndoEditSerializer, responses={200: BoxSerializer, 409: CONFLICT})
    def post(self, request: Request, box_id: int) -> Response:
        """Undo an edit: the earlier geometry and review state come back, the ``edit`` event goes."""
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="undo label changes")
        data = BoxUndoEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = box_undo_edit(box_id=box.id, user=request_user(request), **data.validated_data)
        return Response(BoxSerializer(updated).data)


class BoxUnacceptApi(APIView):
    @extend_schema(request=BoxVersionSerializer, responses={200: BoxSerializer, 409: CONFLICT})
    def post(self, request: Request, box_id: int) -> Response:
        """Undo accepting a prediction: pending again, the ``accept`` event removed."""
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="undo label changes")
        data = BoxVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            BoxSerializer(box_unaccept(box_id=box.id, user=request_user(request), **data.validated_data)).data
        )


class FrameUnacceptAllApi(APIView):
    @extend_schema(request=AcceptAllUndoSerializer, responses={200: BoxSerializer(many=True), 409: CONFLICT})
    def post(self, request: Request, video_id: int, index: int) -> Response:
        """Undo accept-all: exactly the boxes it accepted are pending again, its event removed."""
        user = request_user(request)
        video = video_for_user(user=user, video_id=video_id)
        require_annotator(video, user=user, action="undo label changes")
        data = AcceptAllUndoSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        boxes = frame_unaccept_all(video=video, frame_index=index, user=user, **data.validated_data)
        return Response(BoxSerializer(boxes, many=True).data)


urlpatterns = [
    path("videos/<int:video_id>/boxes/restore/", BoxRestoreApi.as_view(), name="box-restore"),
    path("boxes/<int:box_id>/undo-create/", BoxUndoCreateApi.as_view(), name="box-undo-create"),
    path("boxes/<int:box_id>/undo-edit/", BoxUndoEditApi.as_view(), name="box-undo-edit"),
    path("boxes/<int:box_id>/unaccept/", BoxUnacceptApi.as_view(), name="box-unaccept"),
    path(
        "videos/<int:video_id>/frames/<int:index>/accept-all/undo/",
        FrameUnacceptAllApi.as_view(),
        name="frame-accept-all-undo",
    ),
]
