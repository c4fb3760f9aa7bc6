"""Adding members by username: one message whatever is wrong with the name, and a per-manager rate,
so the endpoint is no tool for listing which accounts exist."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_and_an_inactive_username_get_the_same_answer(api_client, project):
    UserFactory(username="former", is_active=False)
    url = f"/api/projects/{project.id}/members/"

    unknown = api_client.post(url, {"username": "nobody-here", "role": "annotator"}, format="json")
    inactive = api_client.post(url, {"username": "former", "role": "annotator"}, format="json")

    assert unknown.status_code == inactive.status_code == 400
    assert unknown.json() == inactive.json()
    assert "does not exist" not in str(unknown.json())


def test_adding_members_is_rate_limited_per_manager(api_client, project, settings):
    settings.ANNOTATE_MEMBER_ADD_RATE = "3/hour"
    url = f"/api/projects/{project.id}/members/"

    answers = [api_client.post(url, {"username": f"guess{i}"}, format="json").status_code for i in range(4)]

    assert answers == [400, 400, 400, 429]
    assert api_client.get(url).status_code == 200  # reading the member list is not limited
