"""API token views: issued with throttling and the sign-in lockout, revocable.

* ``TokenIssueApi`` (POST /api/auth/token/) is DRF's ObtainAuthToken with two throttles (per
  username and per client address) and django-axes' lockout, each answering 429 with a message.
  An expired token is replaced by a fresh one.
* ``TokenRevokeApi`` (POST /api/auth/token/revoke/) deletes the caller's token.
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from annotate.client_address import client_address
from annotate.lockout import lockout_message
from annotate.tokens import token_expired


def _username(request: Request) -> str:
    data = request.data
    return str(data.get("username", "")) if isinstance(data, dict) or hasattr(data, "get") else ""


class TokenAccountThrottle(SimpleRateThrottle):
    scope = "token_account"

    def get_rate(self) -> str:
        return str(settings.ANNOTATE_TOKEN_RATE_ACCOUNT)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        username = _username(request).strip().lower()
        if not username:
            return None
        # Hashed: a username may hold characters no cache key should.
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenAddressThrottle(SimpleRateThrottle):
    scope = "token_address"

    def get_rate(self) -> str:
        return str(settings.ANNOTATE_TOKEN_RATE_ADDRESS)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        # The lockout's address rule (ANNOTATE_TRUSTED_PROXIES), not a client-sent X-Forwarded-For.
        ident = client_address(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenIssueApi(ObtainAuthToken):
    throttle_classes = [TokenAddressThrottle, TokenAccountThrottle]

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        seconds = f" in {int(wait) + 1} seconds" if wait else " later"
        raise exceptions.Throttled(
            wait,
            detail=f"Too many sign-in attempts for this account or from this address; try again{seconds}.",
        )

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        credentials = {"username": _username(request)}
        if AxesProxyHandler.is_locked(request._request, credentials):
            return Response({"detail": lockout_message(), "code": "locked_out"}, status=429)
        serializer = self.get_serializer(data=request.data, context={"request": request._request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="auth_token_revoke")
    def post(self, request: Request) -> Response:
        """Delete the caller's API token (signing out every script that uses it)."""
        Token.objects.filter(user_id=request.user.pk or 0).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
