"""Members of a project and their roles."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from annotate.apis.serializers.projects import (
    MembershipCreateSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
)
from annotate.models import Role
from annotate.permissions import request_user, require_manager, require_owner
from annotate.selectors.projects import membership_get, membership_list, project_get_for_user
from annotate.services.projects import membership_add, membership_remove, membership_update


class MemberAddThrottle(UserRateThrottle):
    """Adding members, per manager: bounds how fast anyone can test which usernames exist."""

    scope = "member_add"

    def get_rate(self) -> str:
        return str(settings.ANNOTATE_MEMBER_ADD_RATE)

    def allow_request(self, request: Request, view: APIView) -> bool:
        return request.method != "POST" or super().allow_request(request, view)


class MembershipListApi(APIView):
    throttle_classes = [MemberAddThrottle]

    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(MembershipSerializer(membership_list(project=project), many=True).data)

    @extend_schema(request=MembershipCreateSerializer, responses={201: MembershipSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="add members")
        data = MembershipCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("role") == Role.OWNER:
            require_owner(project, action="name owners")
        membership = membership_add(project=project, **data.validated_data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(APIView):
    @extend_schema(request=MembershipUpdateSerializer, responses=MembershipSerializer)
    def patch(self, request: Request, project_id: int, membership_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        membership = membership_get(project=project, membership_id=membership_id)
        require_manager(project, action="change members")
        if membership.role == Role.OWNER:
            require_owner(project, action="change an owner's role")
        data = MembershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["role"] == Role.OWNER:
            require_owner(project, action="name owners")
        membership_update(membership=membership, **data.validated_data)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int, membership_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        membership = membership_get(project=project, membership_id=membership_id)
        require_manager(project, action="remove members")
        if membership.role == Role.OWNER:
            require_owner(project, action="remove an owner")
        membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("projects/<int:project_id>/members/", MembershipListApi.as_view(), name="member-list"),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/",
        MembershipDetailApi.as_view(),
        name="member-detail",
    ),
]
