"""Boxes of a clip: range listing, add, edit and delete with optimistic concurrency (409 on stale)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.boxes import (
    AcceptAboveResultSerializer,
    AcceptAboveSerializer,
    BoxConflictSerializer,
    BoxCreateSerializer,
    BoxDeleteSerializer,
    BoxPropagateSerializer,
    BoxRangeSerializer,
    BoxSerializer,
    BoxUpdateSerializer,
)
from annotate.permissions import request_user, require_annotator
from annotate.selectors.boxes import box_get_for_user, box_list
from annotate.selectors.videos import video_for_user
from annotate.services.boxes import box_create, box_delete, box_propagate, box_update
from annotate.services.corrections import prelabels_accept_above

CONFLICT = OpenApiResponse(BoxConflictSerializer, description="Stale version; `current` is the box now.")


class BoxListApi(APIView):
    @extend_schema(parameters=[BoxRangeSerializer], responses=BoxSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        """Boxes on frames ``frame_start..frame_end`` (inclusive) or on ``frame``, in frame order.

        At most ``limit`` (default and maximum 5000) from ``offset``. When more follow, the response
        has a ``Link: <...>; rel="next"`` header with the next page's URL (the body stays a list).
        """
        query = BoxRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        limit, offset = params.pop("limit"), params.pop("offset")
        video = video_for_user(user=request_user(request), video_id=video_id)
        page = list(box_list(video=video, **params)[offset : offset + limit + 1])
        response = Response(BoxSerializer(page[:limit], many=True).data)
        if len(page) > limit:
            following = request.query_params.copy()
            following["offset"] = str(offset + limit)
            following["limit"] = str(limit)
            response["Link"] = (
                f'<{request.build_absolute_uri(request.path)}?{following.urlencode()}>; rel="next"'
            )
        return response

    @extend_schema(request=BoxCreateSerializer, responses={201: BoxSerializer})
    def post(self, request: Request, video_id: int) -> Response:
        video = video_for_user(user=request_user(request), video_id=video_id)
        require_annotator(video, user=request_user(request), action="draw boxes")
        data = BoxCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        box = box_create(video=video, **data.validated_data, user=request_user(request))
        return Response(BoxSerializer(box).data, status=status.HTTP_201_CREATED)


class BoxDetailApi(APIView):
    @extend_schema(responses=BoxSerializer)
    def get(self, request: Request, box_id: int) -> Response:
        return Response(BoxSerializer(box_get_for_user(user=request_user(request), box_id=box_id)).data)

    @extend_schema(request=BoxUpdateSerializer, responses={200: BoxSerializer, 409: CONFLICT})
    def patch(self, request: Request, box_id: int) -> Response:
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="edit boxes")
        data = BoxUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version = changes.pop("version")
        seconds = changes.pop("seconds", None)
        updated = box_update(
            box_id=box.id, version=version, user=request_user(request), seconds=seconds, **changes
        )
        return Response(BoxSerializer(updated).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("version", int, description="Delete only if still at this version."),
            OpenApiParameter("seconds", float, description="Human time of the deletion, client-measured."),
        ],
        responses={204: None, 409: CONFLICT},
    )
    def delete(self, request: Request, box_id: int) -> Response:
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        require_annotator(box, user=request_user(request), action="delete boxes")
        query = BoxDeleteSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        box_delete(
            box_id=box.id,
            version=query.validated_data.get("version"),
            user=request_user(request),
            seconds=query.validated_data.get("seconds"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class BoxPropagateApi(APIView):
    @extend_schema(request=BoxPropagateSerializer, responses={201: BoxSerializer(many=True)})
    def post(self, request: Request, box_id: int) -> Response:
        """Copy the box onto the next ``frames`` frames, on its track (made when it has none); frames
        where the track is boxed already are skipped. Returns the copies."""
        user = request_user(request)
        box = box_get_for_user(user=user, box_id=box_id)
        require_annotator(box, user=user, action="propagate boxes")
        data = BoxPropagateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        copies = box_propagate(box_id=box.id, frames=data.validated_data["frames"], user=user)
        return Response(BoxSerializer(copies, many=True).data, status=status.HTTP_201_CREATED)


class AcceptAboveApi(APIView):
    @extend_schema(request=AcceptAboveSerializer, responses=AcceptAboveResultSerializer)
    def post(self, request: Request, video_id: int) -> Response:
        """Accept every pending prediction scoring at least ``min_score`` on a frame range."""
        user = request_user(request)
        video = video_for_user(user=user, video_id=video_id)
        require_annotator(video, user=user, action="accept pre-labels")
        data = AcceptAboveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = prelabels_accept_above(video=video, user=user, **data.validated_data)
        return Response(AcceptAboveResultSerializer(result).data)


urlpatterns = [
    path("videos/<int:video_id>/boxes/", BoxListApi.as_view(), name="box-list"),
    path("videos/<int:video_id>/boxes/accept-above/", AcceptAboveApi.as_view(), name="box-accept-above"),
    path("boxes/<int:box_id>/", BoxDetailApi.as_view(), name="box-detail"),
    path("boxes/<int:box_id>/propagate/", BoxPropagateApi.as_view(), name="box-propagate"),
]
