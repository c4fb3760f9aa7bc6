from __future__ import annotations

import pytest

from annotate.models import LabelClass
from tests.factories import BoxFactory

pytestmark = pytest.mark.django_db


def _classes(project):
    return list(project.classes.order_by("index").values_list("name", "index"))


def test_members_can_list_the_classes_in_index_order(annotator_client, project):
    response = annotator_client.get(f"/api/projects/{project.id}/classes/")
    assert response.status_code == 200
    assert [(c["name"], c["index"]) for c in response.json()] == [("square", 0), ("disc", 1)]


def test_a_manager_adds_a_class_at_the_next_index(api_client, project):
    response = api_client.post(f"/api/projects/{project.id}/classes/", {"name": "star"}, format="json")
    assert response.status_code == 201
    assert response.json()["index"] == 2
    assert response.json()["color"].startswith("#")
    assert _classes(project)[-1] == ("star", 2)


def test_adding_a_class_with_a_taken_name_is_a_conflict(api_client, project):
    response = api_client.post(f"/api/projects/{project.id}/classes/", {"name": "disc"}, format="json")
    assert response.status_code == 409
    assert len(_classes(project)) == 2


def test_a_manager_renames_and_recolours_a_class_keeping_its_index(api_client, project):
    square = project.classes.get(name="square")
    response = api_client.patch(
        f"/api/projects/{project.id}/classes/{square.id}/", {"name": "box", "color": "#ABCDEF"}, format="json"
    )
    assert response.status_code == 200
    square.refresh_from_db()
    assert (square.name, square.color, square.index) == ("box", "#abcdef", 0)


def test_deleting_an_unused_class_removes_it(api_client, project):
    disc = project.classes.get(name="disc")
    assert api_client.delete(f"/api/projects/{project.id}/classes/{disc.id}/").status_code == 204
    assert not LabelClass.objects.filter(id=disc.id).exists()


def test_deleting_a_class_that_boxes_use_is_refused(api_client, project, video):
    square = project.classes.get(name="square")
    BoxFactory(frame=video.frames.first(), label_class=square)

    response = api_client.delete(f"/api/projects/{project.id}/classes/{square.id}/")

    assert response.status_code == 409
    assert LabelClass.objects.filter(id=square.id).exists()


def test_an_annotator_cannot_add_change_or_delete_classes(annotator_client, project):
    square = project.classes.get(name="square")
    url = f"/api/projects/{project.id}/classes/"
    assert annotator_client.post(url, {"name": "star"}, format="json").status_code == 403
    assert annotator_client.patch(f"{url}{square.id}/", {"name": "x"}, format="json").status_code == 403
    assert annotator_client.delete(f"{url}{square.id}/").status_code == 403
    assert _classes(project) == [("square", 0), ("disc", 1)]


def test_a_non_member_gets_404_for_classes(outsider_client, project):
    square = project.classes.get(name="square")
    url = f"/api/projects/{project.id}/classes/"
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"name": "star"}, format="json").status_code == 404
    assert outsider_client.patch(f"{url}{square.id}/", {"name": "x"}, format="json").status_code == 404
    assert outsider_client.delete(f"{url}{square.id}/").status_code == 404


def test_a_class_of_another_project_is_not_found_through_this_project(api_client, project, outsider):
    foreign = LabelClass.objects.exclude(project=project).first()
    assert api_client.delete(f"/api/projects/{project.id}/classes/{foreign.id}/").status_code == 404


def test_deleting_a_class_in_use_says_how_many_boxes_and_deletes_them_only_when_asked(
    api_client, project, video
):
    from annotate.models import Box, LabelClass
    from tests.factories import BoxFactory

    disc = LabelClass.objects.get(project=project, name="disc")
    frame = video.frames.first()
    BoxFactory(frame=frame, label_class=disc)
    BoxFactory(frame=frame, label_class=disc)
    BoxFactory(frame=frame)  # a square stays
    listed = {
        c["name"]: c["box_count"] for c in api_client.get(f"/api/projects/{project.id}/classes/").json()
    }
    assert listed == {"square": 1, "disc": 2}

    url = f"/api/projects/{project.id}/classes/{disc.id}/"
    refused = api_client.delete(url)
    assert refused.status_code == 409 and "2 boxes" in refused.json()["detail"]
    assert api_client.delete(f"{url}?delete_boxes=true").status_code == 204
    assert list(Box.objects.values_list("label_class__name", flat=True)) == ["square"]


def test_classes_are_reordered_and_keep_dense_indices(api_client, project):
    from annotate.models import LabelClass

    ids = list(LabelClass.objects.filter(project=project).order_by("index").values_list("id", flat=True))
    response = api_client.post(
        f"/api/projects/{project.id}/classes/order/", {"classes": ids[::-1]}, format="json"
    )
    assert response.status_code == 200
    assert [(c["name"], c["index"]) for c in response.json()] == [("disc", 0), ("square", 1)]
    bad = api_client.post(f"/api/projects/{project.id}/classes/order/", {"classes": ids[:1]}, format="json")
    assert bad.status_code == 400
