from __future__ import annotations

import pytest
import yaml
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_renders_and_validates(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    paths = schema["paths"]
    for url in (
        "/api/projects/",
        "/api/videos/{video_id}/frames/{index}/image",
        "/api/boxes/{box_id}/",
        "/api/auth/token/",
    ):
        assert url in paths
    assert "409" in paths["/api/boxes/{box_id}/"]["patch"]["responses"]


def test_the_api_reference_page_is_self_hosted_html(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "/api/videos/{video_id}/boxes/" in page
    assert "<script" not in page  # nothing to fetch from a CDN
