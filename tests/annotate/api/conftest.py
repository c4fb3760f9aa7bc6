"""Actors of the API tests: the project's manager (``user``), an annotator and an outsider."""

from __future__ import annotations

from typing import cast

import pytest
from rest_framework.test import APIClient

from annotate.models import Project, Video
from tests.factories import MembershipFactory, UserFactory, VideoFactory, make_frames


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Every test makes two or three users; PBKDF2 would spend most of the run hashing passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def annotator(project: Project):
    member = UserFactory()
    MembershipFactory(project=project, user=member, role="annotator")
    return member


@pytest.fixture
def annotator_client(annotator) -> APIClient:
    return client_for(annotator)


@pytest.fixture
def outsider(db):
    """Signed in, but a member of another project only."""
    other = UserFactory()
    MembershipFactory(user=other, role="manager")
    return other


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return client_for(outsider)


@pytest.fixture
def video(project: Project) -> Video:
    """A ready 64x48 clip of 5 frames with real JPEGs in MEDIA_ROOT."""
    clip = cast(Video, VideoFactory(project=project))
    make_frames(clip, 5)
    return clip
