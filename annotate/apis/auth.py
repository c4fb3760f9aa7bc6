"""Token sign-in and the current user."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.auth import MeSerializer
from annotate.apis.tokens import TokenIssueApi, TokenRevokeApi


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, operation_id="me")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


urlpatterns = [
    path("auth/token/", TokenIssueApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("me/", MeApi.as_view(), name="me"),
]
