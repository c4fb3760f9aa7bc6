"""Tracks of a clip."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.tracks import (
    TrackCreateSerializer,
    TrackMergeSerializer,
    TrackSerializer,
    TrackSplitSerializer,
    TrackUpdateSerializer,
)
from annotate.permissions import request_user, require_annotator
from annotate.selectors.tracks import track_get_for_user, track_list
from annotate.selectors.videos import video_for_user
from annotate.services.tracks import track_create, track_delete, track_merge, track_split, track_update


class TrackListApi(APIView):
    @extend_schema(responses=TrackSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        video = video_for_user(user=request_user(request), video_id=video_id)
        return Response(TrackSerializer(track_list(video=video), many=True).data)

    @extend_schema(request=TrackCreateSerializer, responses={201: TrackSerializer})
    def post(self, request: Request, video_id: int) -> Response:
        video = video_for_user(user=request_user(request), video_id=video_id)
        require_annotator(video, user=request_user(request), action="create tracks")
        data = TrackCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        track = track_create(video=video, **data.validated_data, user=request_user(request))
        return Response(TrackSerializer(track).data, status=status.HTTP_201_CREATED)


class TrackDetailApi(APIView):
    @extend_schema(responses=TrackSerializer)
    def get(self, request: Request, track_id: int) -> Response:
        return Response(
            TrackSerializer(track_get_for_user(user=request_user(request), track_id=track_id)).data
        )

    @extend_schema(request=TrackUpdateSerializer, responses=TrackSerializer)
    def patch(self, request: Request, track_id: int) -> Response:
        track = track_get_for_user(user=request_user(request), track_id=track_id)
        require_annotator(track, user=request_user(request), action="change tracks")
        data = TrackUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        track_update(track=track, **data.validated_data)
        return Response(TrackSerializer(track).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, track_id: int) -> Response:
        track = track_get_for_user(user=request_user(request), track_id=track_id)
        require_annotator(track, user=request_user(request), action="delete tracks")
        track_delete(track=track)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrackMergeApi(APIView):
    @extend_schema(request=TrackMergeSerializer, responses=TrackSerializer)
    def post(self, request: Request, track_id: int) -> Response:
        """Move every box of this track onto ``into`` and delete this one (409 when both are boxed on
        one frame)."""
        user = request_user(request)
        track = track_get_for_user(user=user, track_id=track_id)
        require_annotator(track, user=user, action="merge tracks")
        data = TrackMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        into = track_get_for_user(user=user, track_id=data.validated_data["into"])
        merged = track_merge(track=track, into=into, user=user)
        return Response(TrackSerializer(track_get_for_user(user=user, track_id=merged.id)).data)


class TrackSplitApi(APIView):
    @extend_schema(request=TrackSplitSerializer, responses={201: TrackSerializer})
    def post(self, request: Request, track_id: int) -> Response:
        """The boxes from ``frame_index`` on go to a new track, which is returned."""
        user = request_user(request)
        track = track_get_for_user(user=user, track_id=track_id)
        require_annotator(track, user=user, action="split tracks")
        data = TrackSplitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = track_split(track=track, frame_index=data.validated_data["frame_index"], user=user)
        return Response(
            TrackSerializer(track_get_for_user(user=user, track_id=new.id)).data,
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [
    path("videos/<int:video_id>/tracks/", TrackListApi.as_view(), name="track-list"),
    path("tracks/<int:track_id>/", TrackDetailApi.as_view(), name="track-detail"),
    path("tracks/<int:track_id>/merge/", TrackMergeApi.as_view(), name="track-merge"),
    path("tracks/<int:track_id>/split/", TrackSplitApi.as_view(), name="track-split"),
]
