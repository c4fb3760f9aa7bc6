"""Bad input answers 400 with a message (never 500), and imports refuse what they cannot hold."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from annotate.models import Box, CorrectionAction, CorrectionEvent
from annotate.services.imports import LabelImportError, labels_import
from tests.annotate.exchange.conftest import make_video  # noqa: F401 - a fixture
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

PAST_BIGINT = 2**63 + 5


@pytest.mark.parametrize("value", [PAST_BIGINT, 2**31 + 5])
def test_an_integer_past_the_databases_range_is_a_400(api_client, project, value):
    response = api_client.patch(
        f"/api/projects/{project.id}/", {"auto_train_after_frames": value}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "auto_train_after_frames" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/projects/{PAST_BIGINT}/",
        f"/api/videos/{PAST_BIGINT}/",
        f"/api/projects/?offset={PAST_BIGINT}",
        f"/api/projects/?limit={PAST_BIGINT}",
    ],
)
def test_ids_and_offsets_past_the_range_are_not_a_server_error(api_client, url):
    assert api_client.get(url).status_code < 500


def test_deeply_nested_json_is_a_400(api_client):
    deep = "[" * 100_000 + "]" * 100_000

    response = api_client.post("/api/projects/", data=deep, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_nul_in_a_name_is_a_400(api_client, project):
    created = api_client.post("/api/projects/", {"name": "a\x00b"}, format="json")
    renamed = api_client.post(
        f"/api/projects/{project.id}/classes/", {"name": "a\x00b", "color": "#aabbcc"}, format="json"
    )

    assert (created.status_code, renamed.status_code) == (400, 400)


@pytest.fixture
def clip(project, make_video):  # noqa: F811
    return make_video(project, frames=3, labeled=False)[0]


def _refused(video, path: Path, format: str) -> list[str]:
    before = Box.objects.count()
    with pytest.raises(LabelImportError) as caught:
        labels_import(video=video, path=path, format=format)
    assert Box.objects.count() == before
    return caught.value.errors


@pytest.mark.parametrize("bad", ["inf", "1e400", "-inf"])
def test_mot_with_infinite_numbers_is_refused_with_a_message(clip, tmp_path, bad):
    gt = tmp_path / "gt.txt"
    gt.write_text(f"1,{bad},2,3,4,5,1,1,1\n1,2,2,3,{bad},5,1,1,1\n")

    errors = _refused(clip, gt, "mot")

    assert errors[0] == f"gt.txt line 1: not numbers: '1,{bad},2,3,4,5,1,1,1'"
    assert len(errors) == 2


@pytest.mark.parametrize("score", [1.5, -0.1])
def test_a_prediction_score_outside_0_to_1_is_refused(clip, tmp_path, score):
    document = {
        "images": [{"id": 1, "file_name": "000000.png", "frame_index": 0}],
        "annotations": [{"id": 3, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": score}],
        "categories": [{"id": 1, "name": "square"}],
    }
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(document))

    errors = _refused(clip, path, "coco")

    assert errors == [f"annotation 3: score {score!r} must be between 0 and 1"]


def test_a_deeply_nested_data_yaml_is_refused_with_a_message(clip, tmp_path):
    root = tmp_path / "yolo.zip"
    with zipfile.ZipFile(root, "w") as archive:
        archive.writestr("data.yaml", "names: " + "[" * 5000 + "]" * 5000)
        archive.writestr("labels/train/000000.txt", "0 0.5 0.5 0.2 0.2\n")

    errors = _refused(clip, root, "yolo")

    assert any("nested too deeply" in error for error in errors)


def test_restoring_a_box_id_of_another_project_says_nothing_about_it(clip, project, user):
    other = ProjectFactory()
    MembershipFactory(project=other, user=UserFactory(), role="manager")
    from annotate.models import Frame, LabelClass

    foreign_class = LabelClass.objects.filter(project=other).first() or LabelClass.objects.create(
        project=other, name="x", color="#112233", index=0
    )
    foreign_video = clip.__class__.objects.create(project=other, name="o", source="o", status="ready")
    foreign_frame = Frame.objects.create(video=foreign_video, index=0, timestamp=0, image="x.jpg", sha256="0")
    foreign = Box.objects.create(frame=foreign_frame, label_class=foreign_class, x=1, y=1, w=2, h=2)
    client = APIClient()
    client.force_authenticate(user=user)
    label = project.classes.first()

    def restore(box_id: int):
        return client.post(
            f"/api/videos/{clip.id}/boxes/restore/",
            {"box": box_id, "frame_index": 0, "x": 1, "y": 1, "w": 2, "h": 2, "label_class": label.id},
            format="json",
        )

    taken, free = restore(foreign.id), restore(foreign.id + 1000)

    assert taken.status_code == free.status_code == 409
    assert taken.json()["detail"] == free.json()["detail"]
    assert str(foreign.id) not in taken.json()["detail"]
    assert not CorrectionEvent.objects.filter(action=CorrectionAction.DELETE).exists()
