from __future__ import annotations

import pytest

from annotate.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_annotator_can_list_the_members(annotator_client, project, user, annotator):
    response = annotator_client.get(f"/api/projects/{project.id}/members/")
    assert response.status_code == 200
    assert {(m["username"], m["role"]) for m in response.json()} == {
        (user.username, "manager"),
        (annotator.username, "annotator"),
    }


def test_a_manager_adds_a_member_by_username(api_client, project):
    newcomer = UserFactory()
    response = api_client.post(
        f"/api/projects/{project.id}/members/",
        {"username": newcomer.username, "role": "annotator"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["user"] == {"id": newcomer.id, "username": newcomer.username}
    assert Membership.objects.get(project=project, user=newcomer).role == "annotator"


def test_adding_an_unknown_user_or_an_existing_member_is_refused(api_client, project, annotator):
    url = f"/api/projects/{project.id}/members/"
    assert api_client.post(url, {"username": "nobody", "role": "annotator"}, format="json").status_code == 400
    assert api_client.post(url, {"username": annotator.username}, format="json").status_code == 409


def test_a_manager_promotes_an_annotator(api_client, project, annotator):
    membership = Membership.objects.get(project=project, user=annotator)
    response = api_client.patch(
        f"/api/projects/{project.id}/members/{membership.id}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "manager"


def test_the_last_owner_cannot_be_demoted_or_removed(api_client, project, user):
    membership = Membership.objects.get(project=project, user=user)
    Membership.objects.filter(id=membership.id).update(role="owner")
    url = f"/api/projects/{project.id}/members/{membership.id}/"

    assert api_client.patch(url, {"role": "annotator"}, format="json").status_code == 409
    assert api_client.delete(url).status_code == 409
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_an_owner_can_step_down_once_another_owner_exists(api_client, project, user, annotator):
    Membership.objects.filter(project=project, user=annotator).update(role="owner")
    membership = Membership.objects.get(project=project, user=user)
    Membership.objects.filter(id=membership.id).update(role="owner")

    assert api_client.delete(f"/api/projects/{project.id}/members/{membership.id}/").status_code == 204
    assert not Membership.objects.filter(id=membership.id).exists()


def test_an_annotator_cannot_add_change_or_remove_members(annotator_client, project, user):
    manager = Membership.objects.get(project=project, user=user)
    url = f"/api/projects/{project.id}/members/"
    outsider = UserFactory()
    assert annotator_client.post(url, {"username": outsider.username}, format="json").status_code == 403
    assert (
        annotator_client.patch(f"{url}{manager.id}/", {"role": "annotator"}, format="json").status_code == 403
    )
    assert annotator_client.delete(f"{url}{manager.id}/").status_code == 403
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_non_member_gets_404_for_members(outsider_client, project, user):
    manager = Membership.objects.get(project=project, user=user)
    url = f"/api/projects/{project.id}/members/"
    assert outsider_client.get(url).status_code == 404
    assert (
        outsider_client.patch(f"{url}{manager.id}/", {"role": "annotator"}, format="json").status_code == 404
    )
    assert outsider_client.delete(f"{url}{manager.id}/").status_code == 404
