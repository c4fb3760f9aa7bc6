"""The box listing is paged (at most 5000 per answer, a Link to the next page) and keeps the
frame-window query."""

from __future__ import annotations

import pytest

from tests.annotate.api.conftest import video  # noqa: F401 - a fixture
from tests.factories import BoxFactory

pytestmark = pytest.mark.django_db


def test_the_box_listing_is_paged_inside_the_frame_window(api_client, video):  # noqa: F811
    frames = list(video.frames.order_by("index"))
    ids = [BoxFactory(frame=frames[i % 5]).id for i in range(15)]
    window = sorted((i % 5, box_id) for i, box_id in enumerate(ids) if 1 <= i % 5 <= 3)
    url = f"/api/videos/{video.id}/boxes/?frame_start=1&frame_end=3&limit=4"

    seen: list[tuple[int, int]] = []
    pages = 0
    while url:
        response = api_client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body) <= 4
        seen += [(b["frame_index"], b["id"]) for b in body]
        pages += 1
        link = response.headers.get("Link", "")
        url = link[link.index("<") + 1 : link.index(">")] if link else ""

    assert seen == window and pages == 3  # 9 boxes: 4 + 4 + 1


def test_a_page_larger_than_the_maximum_is_refused(api_client, video):  # noqa: F811
    response = api_client.get(f"/api/videos/{video.id}/boxes/?limit=5001")

    assert response.status_code == 400
    assert "limit" in response.json()
