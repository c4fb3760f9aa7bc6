"""Boxes of a clip: range listing, add, edit and delete with optimistic concurrency (409 on stale)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.boxes import (
    BoxConflictSerializer,
    BoxCreateSerializer,
    BoxDeleteSerializer,
    BoxRangeSerializer,
    BoxSerializer,
    BoxUpdateSerializer,
)
from annotate.permissions import request_user
from annotate.selectors.boxes import box_get_for_user, box_list
from annotate.selectors.videos import video_for_user
from annotate.services.boxes import box_create, box_delete, box_update

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
        data = BoxUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version = changes.pop("version")
        seconds = changes.pop("seconds", None)
        box = box_get_for_user(user=request_user(request), box_id=box_id)
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
        query = BoxDeleteSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        box = box_get_for_user(user=request_user(request), box_id=box_id)
        box_delete(
            box_id=box.id,
            version=query.validated_data.get("version"),
            user=request_user(request),
            seconds=query.validated_data.get("seconds"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("videos/<int:video_id>/boxes/", BoxListApi.as_view(), name="box-list"),
    path("boxes/<int:box_id>/", BoxDetailApi.as_view(), name="box-detail"),
]
