from __future__ import annotations

import hashlib

import pytest

from tests.factories import BoxFactory

pytestmark = pytest.mark.django_db


def test_frames_are_listed_by_inclusive_index_range(api_client, video):
    response = api_client.get(f"/api/videos/{video.id}/frames/?start=1&end=3")
    assert response.status_code == 200
    assert [f["index"] for f in response.json()] == [1, 2, 3]


def test_all_frames_are_listed_by_default_and_limit_offset_page_them(api_client, video):
    url = f"/api/videos/{video.id}/frames/"
    assert [f["index"] for f in api_client.get(url).json()] == [0, 1, 2, 3, 4]
    assert [f["index"] for f in api_client.get(f"{url}?start=1&offset=1&limit=2").json()] == [2, 3]


def test_a_frame_lists_its_image_url_box_counts_and_touch_state(api_client, video):
    frame = video.frames.get(index=2)
    BoxFactory(frame=frame)
    BoxFactory(frame=frame, source="model", review_state="pending", score=0.7)
    BoxFactory(frame=frame, source="model", review_state="pending", score=0.4)
    frame.touched_at = video.created_at
    frame.save()

    [body] = api_client.get(f"/api/videos/{video.id}/frames/?start=2&end=2").json()

    assert body == {
        "index": 2,
        "timestamp": pytest.approx(0.2),
        "image_url": f"/api/videos/{video.id}/frames/2/image",
        "human_boxes": 1,
        "model_boxes": 2,
        "pending_boxes": 2,
        "lowest_pending_score": 0.4,
        "touched": True,
        "finished": False,
    }


def test_an_inverted_range_is_refused(api_client, video):
    assert api_client.get(f"/api/videos/{video.id}/frames/?start=3&end=1").status_code == 400


def test_a_frame_image_is_served_with_its_sha256_as_etag_and_immutable_caching(api_client, video, settings):
    frame = video.frames.get(index=3)

    response = api_client.get(f"/api/videos/{video.id}/frames/3/image")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == (settings.MEDIA_ROOT / frame.image).read_bytes()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == str(len(body))
    assert response["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"


def test_a_matching_if_none_match_gets_304_without_a_body(api_client, video):
    frame = video.frames.get(index=0)
    response = api_client.get(
        f"/api/videos/{video.id}/frames/0/image", HTTP_IF_NONE_MATCH=f'W/"x", "{frame.sha256}"'
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{frame.sha256}"'


def test_a_stale_if_none_match_gets_the_image(api_client, video):
    response = api_client.get(f"/api/videos/{video.id}/frames/0/image", HTTP_IF_NONE_MATCH='"old"')
    assert response.status_code == 200


def test_an_image_request_accepting_only_images_is_served(api_client, video):
    response = api_client.get(f"/api/videos/{video.id}/frames/0/image", HTTP_ACCEPT="image/webp,image/jpeg")
    assert response.status_code == 200


def test_a_missing_frame_is_404(api_client, video):
    assert api_client.get(f"/api/videos/{video.id}/frames/99/image").status_code == 404


def test_a_non_member_gets_404_for_frames_and_images_even_with_the_right_etag(outsider_client, video):
    frame = video.frames.get(index=0)
    assert outsider_client.get(f"/api/videos/{video.id}/frames/").status_code == 404
    image = outsider_client.get(
        f"/api/videos/{video.id}/frames/0/image", HTTP_IF_NONE_MATCH=f'"{frame.sha256}"'
    )
    assert image.status_code == 404
    assert "ETag" not in image
