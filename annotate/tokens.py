"""API token rules that run on every request: expiry, and revocation when the password changes.

* ``ExpiringTokenAuthentication`` refuses (and deletes) a token older than ANNOTATE_TOKEN_TTL_HOURS.
* ``RevokeTokensOnPasswordChange`` is listed in AUTH_PASSWORD_VALIDATORS only for its
  ``password_changed`` hook, which Django calls after every saved password change (the admin,
  ``changepassword``, ``set_password`` + ``save``): it deletes the user's tokens.

Kept apart from the token views: DRF's settings import this module, so it cannot import DRF views.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token) -> bool:
    hours = settings.ANNOTATE_TOKEN_TTL_HOURS
    return bool(hours) and token.created < timezone.now() - timedelta(hours=hours)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                "The token has expired; request a new one from /api/auth/token/."
            )
        return user, token


class RevokeTokensOnPasswordChange:
    """A password "validator" that validates nothing: its hook revokes tokens after a change."""

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        return None

    def password_changed(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if user is not None and user.pk is not None:
            Token.objects.filter(user_id=user.pk).delete()

    def get_help_text(self) -> str:
        return ""
