from __future__ import annotations

import pytest

from annotate.models import LabelClass, Membership, Project
from annotate.services.projects import PALETTE
from tests.factories import BoxFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_project_list_shows_only_my_projects_with_my_role(api_client, project):
    ProjectFactory(name="someone else's")

    response = api_client.get("/api/projects/")

    assert response.status_code == 200
    assert [(p["id"], p["role"]) for p in response.json()] == [(project.id, "manager")]


def test_creating_a_project_makes_the_creator_its_owner_with_ordered_classes(api_client, user):
    response = api_client.post(
        "/api/projects/",
        {"name": "Birds", "classes": [{"name": "gull"}, {"name": "tern", "color": "#112233"}]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "owner"
    assert [(c["name"], c["index"], c["color"]) for c in body["classes"]] == [
        ("gull", 0, PALETTE[0]),
        ("tern", 1, "#112233"),
    ]
    assert Membership.objects.get(project_id=body["id"], user=user).role == "owner"


@pytest.mark.parametrize(
    "classes",
    [[], [{"name": "a"}, {"name": "a"}], [{"name": "  "}], [{"name": "a", "color": "red"}]],
    ids=["none", "duplicate", "blank", "bad-colour"],
)
def test_creating_a_project_with_invalid_classes_is_refused(api_client, classes):
    response = api_client.post("/api/projects/", {"name": "P", "classes": classes}, format="json")
    assert response.status_code == 400
    assert not Project.objects.filter(name="P").exists()


def test_class_names_with_markup_are_stored_and_returned_verbatim_as_json(api_client):
    evil = '<script>alert("x")</script>&amp;'
    response = api_client.post("/api/projects/", {"name": evil, "classes": [{"name": evil}]}, format="json")
    assert response.status_code == 201

    detail = api_client.get(f"/api/projects/{response.json()['id']}/")

    assert detail["Content-Type"] == "application/json"
    assert detail.json()["name"] == evil
    assert detail.json()["classes"][0]["name"] == evil
    assert LabelClass.objects.get(project_id=response.json()["id"]).name == evil


def test_project_detail_has_settings_role_and_classes(api_client, project):
    body = api_client.get(f"/api/projects/{project.id}/").json()
    assert set(body) == {
        "id",
        "name",
        "base_weights",
        "auto_train",
        "auto_train_after_frames",
        "train_from_scratch",
        "train_time_budget",
        "base_weights_info",
        "role",
        "classes",
        "created_at",
    }
    assert [c["name"] for c in body["classes"]] == ["square", "disc"]


def test_a_manager_can_change_project_settings(api_client, project):
    response = api_client.patch(
        f"/api/projects/{project.id}/", {"auto_train": False, "auto_train_after_frames": 9}, format="json"
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.auto_train, project.auto_train_after_frames) == (False, 9)


def test_an_annotator_cannot_change_or_delete_the_project(annotator_client, project):
    assert (
        annotator_client.patch(f"/api/projects/{project.id}/", {"name": "x"}, format="json").status_code
        == 403
    )
    assert annotator_client.delete(f"/api/projects/{project.id}/").status_code == 403
    project.refresh_from_db()
    assert project.name != "x"


def test_a_non_member_gets_404_for_a_project(outsider_client, project):
    assert outsider_client.get(f"/api/projects/{project.id}/").status_code == 404
    assert (
        outsider_client.patch(f"/api/projects/{project.id}/", {"name": "x"}, format="json").status_code == 404
    )
    assert outsider_client.delete(f"/api/projects/{project.id}/").status_code == 404


def test_deleting_a_project_removes_its_clips_boxes_and_frame_images(
    api_client, project, user, video, settings, django_capture_on_commit_callbacks
):
    Membership.objects.filter(project=project, user=user).update(role="owner")  # only owners delete
    frame = video.frames.first()
    BoxFactory(frame=frame)
    image = settings.MEDIA_ROOT / frame.image
    assert image.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"/api/projects/{project.id}/")

    assert response.status_code == 204
    assert not Project.objects.filter(id=project.id).exists()
    assert not image.exists()
