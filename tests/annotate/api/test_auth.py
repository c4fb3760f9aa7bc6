from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_issued_for_the_right_password_and_authenticates_requests():
    UserFactory(username="ada")
    client = APIClient()

    response = client.post("/api/auth/token/", {"username": "ada", "password": "correct horse battery"})
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "ada"


def test_a_wrong_password_gets_no_token():
    UserFactory(username="ada")
    response = APIClient().post("/api/auth/token/", {"username": "ada", "password": "nope"})
    assert response.status_code == 400
    assert "token" not in response.json()


def test_me_returns_the_signed_in_users_id_and_name(api_client, user):
    assert api_client.get("/api/me/").json() == {"id": user.id, "username": user.username}


@pytest.mark.parametrize(
    "url",
    ["/api/me/", "/api/projects/", "/api/projects/1/", "/api/videos/1/", "/api/videos/1/frames/0/image"],
)
def test_anonymous_requests_are_refused(url):
    assert APIClient().get(url).status_code in (401, 403)


def test_a_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/me/").status_code in (401, 403)
