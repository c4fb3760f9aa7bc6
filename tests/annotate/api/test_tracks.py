from __future__ import annotations

import pytest

from annotate.models import Box, LabelClass, Track
from tests.factories import BoxFactory, TrackFactory

pytestmark = pytest.mark.django_db


def test_tracks_of_a_clip_are_listed(api_client, video):
    track = TrackFactory(video=video, external_id="7")
    TrackFactory()  # another project's clip
    response = api_client.get(f"/api/videos/{video.id}/tracks/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": track.id,
            "video": video.id,
            "label_class": track.label_class_id,
            "external_id": "7",
            "source": "human",
            "first_frame": None,
            "last_frame": None,
            "box_count": 0,
        }
    ]


def test_a_member_creates_a_track_of_a_project_class(annotator_client, video, project):
    disc = project.classes.get(name="disc")
    response = annotator_client.post(
        f"/api/videos/{video.id}/tracks/", {"label_class": disc.id, "external_id": "a"}, format="json"
    )
    assert response.status_code == 201
    assert Track.objects.get(id=response.json()["id"]).label_class == disc


def test_a_track_with_another_projects_class_is_refused(api_client, video, outsider):
    foreign = LabelClass.objects.exclude(project=video.project).first()
    response = api_client.post(f"/api/videos/{video.id}/tracks/", {"label_class": foreign.id}, format="json")
    assert response.status_code == 400
    assert "label_class" in response.json()


def test_a_track_is_read_relabelled_and_deleted_leaving_its_boxes(api_client, video, project):
    track = TrackFactory(video=video)
    box = BoxFactory(frame=video.frames.first(), track=track)
    disc = project.classes.get(name="disc")
    url = f"/api/tracks/{track.id}/"

    assert api_client.get(url).json()["id"] == track.id
    assert api_client.patch(url, {"label_class": disc.id}, format="json").json()["label_class"] == disc.id
    assert api_client.delete(url).status_code == 204

    assert not Track.objects.filter(id=track.id).exists()
    assert Box.objects.get(id=box.id).track is None


def test_a_non_member_gets_404_for_tracks(outsider_client, video):
    track = TrackFactory(video=video)
    assert outsider_client.get(f"/api/videos/{video.id}/tracks/").status_code == 404
    assert outsider_client.post(f"/api/videos/{video.id}/tracks/", {"label_class": 1}).status_code == 404
    assert outsider_client.get(f"/api/tracks/{track.id}/").status_code == 404
    assert outsider_client.patch(f"/api/tracks/{track.id}/", {"external_id": "x"}).status_code == 404
    assert outsider_client.delete(f"/api/tracks/{track.id}/").status_code == 404
    assert Track.objects.filter(id=track.id).exists()
