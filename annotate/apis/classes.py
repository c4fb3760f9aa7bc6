"""Label classes of a project: list (with how many boxes use each), add, rename/recolour, reorder,
delete (with the boxes that use it, once the caller has seen the count)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.projects import (
    ClassDeleteSerializer,
    ClassInputSerializer,
    ClassOrderSerializer,
    ClassUpdateSerializer,
    LabelClassSerializer,
    LabelClassUsageSerializer,
)
from annotate.permissions import request_user, require_manager
from annotate.selectors.projects import label_class_get, label_class_list, project_get_for_user
from annotate.services.projects import (
    label_class_create,
    label_class_delete,
    label_class_reorder,
    label_class_update,
)


class LabelClassListApi(APIView):
    @extend_schema(responses=LabelClassUsageSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(LabelClassUsageSerializer(label_class_list(project=project), many=True).data)

    @extend_schema(request=ClassInputSerializer, responses={201: LabelClassSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="add classes")
        data = ClassInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label_class = label_class_create(project=project, **data.validated_data)
        return Response(LabelClassSerializer(label_class).data, status=status.HTTP_201_CREATED)


class LabelClassOrderApi(APIView):
    @extend_schema(request=ClassOrderSerializer, responses=LabelClassUsageSerializer(many=True))
    def post(self, request: Request, project_id: int) -> Response:
        """Put the classes in this order (ids, each once); their indices become 0..n-1."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        require_manager(project, action="reorder classes")
        data = ClassOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label_class_reorder(project=project, class_ids=data.validated_data["classes"])
        return Response(LabelClassUsageSerializer(label_class_list(project=project), many=True).data)


class LabelClassDetailApi(APIView):
    @extend_schema(request=ClassUpdateSerializer, responses=LabelClassSerializer)
    def patch(self, request: Request, project_id: int, class_id: int) -> Response:
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        label_class = label_class_get(project=project, class_id=class_id)
        require_manager(project, action="change classes")
        data = ClassUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label_class_update(label_class=label_class, **data.validated_data)
        return Response(LabelClassSerializer(label_class).data)

    @extend_schema(parameters=[ClassDeleteSerializer], responses={204: None})
    def delete(self, request: Request, project_id: int, class_id: int) -> Response:
        """Delete a class; one in use needs ``?delete_boxes=true`` (409 says how many boxes go)."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        label_class = label_class_get(project=project, class_id=class_id)
        require_manager(project, action="delete classes")
        query = ClassDeleteSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        label_class_delete(label_class=label_class, delete_boxes=query.validated_data["delete_boxes"])
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("projects/<int:project_id>/classes/", LabelClassListApi.as_view(), name="class-list"),
    path("projects/<int:project_id>/classes/order/", LabelClassOrderApi.as_view(), name="class-order"),
    path(
        "projects/<int:project_id>/classes/<int:class_id>/",
        LabelClassDetailApi.as_view(),
        name="class-detail",
    ),
]
