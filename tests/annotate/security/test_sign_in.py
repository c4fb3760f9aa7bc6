"""Brute force: the login form, the admin's and the token endpoint lock out or throttle repeated
failures per account and per address, with a message that says so; tokens expire, can be revoked,
and die with a password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the factories' password


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _form_login(client: Client, url: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_the_right_password_is_refused_after_repeated_failures_for_the_account(url):
    user = UserFactory(username="ada", is_staff=True)
    client = Client()
    for attempt in range(3):
        # Each guess from another address: the account's own count locks it (at the third).
        answer = _form_login(client, url, "ada", f"guess{attempt}", f"10.0.0.{attempt + 10}")
        assert answer.status_code == (200 if attempt < 2 else 429)

    locked = _form_login(client, url, "ada", PASSWORD, "10.0.0.99")

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert user.is_active


def test_one_address_guessing_many_accounts_is_locked_out():
    UserFactory(username="grace")
    client = Client()
    for name in ("u1", "u2", "u3"):
        _form_login(client, "/login/", name, "wrong")

    locked = _form_login(client, "/login/", "grace", PASSWORD)
    elsewhere = _form_login(Client(), "/login/", "grace", PASSWORD, "10.0.0.2")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302  # the account itself is fine from another address


def test_a_success_before_the_limit_resets_the_count():
    UserFactory(username="ada")
    for _ in range(2):
        _form_login(Client(), "/login/", "ada", "wrong")
    assert _form_login(Client(), "/login/", "ada", PASSWORD).status_code == 302
    for _ in range(2):
        _form_login(Client(), "/login/", "ada", "wrong")
    assert _form_login(Client(), "/login/", "ada", PASSWORD).status_code == 302


def test_the_token_endpoint_refuses_a_locked_out_account_with_a_message():
    UserFactory(username="ada")
    client = APIClient()
    for attempt in range(3):
        response = client.post(
            "/api/auth/token/", {"username": "ada", "password": "nope"}, REMOTE_ADDR=f"10.1.0.{attempt}"
        )
        assert response.status_code == 400

    locked = client.post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.1.0.9"
    )

    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "token" not in locked.json()


def test_the_token_endpoint_throttles_per_account_and_per_address(settings):
    settings.AXES_FAILURE_LIMIT = 1000
    settings.ANNOTATE_TOKEN_RATE_ACCOUNT = "4/min"
    settings.ANNOTATE_TOKEN_RATE_ADDRESS = "6/min"
    UserFactory(username="ada")
    client = APIClient()
    answers = [
        client.post("/api/auth/token/", {"username": "ada", "password": "x"}, REMOTE_ADDR=f"10.2.0.{i}")
        for i in range(5)
    ]
    by_address = [
        client.post("/api/auth/token/", {"username": f"user{i}", "password": "x"}, REMOTE_ADDR="10.3.0.1")
        for i in range(7)
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert "Too many sign-in attempts" in answers[-1].json()["detail"]
    assert by_address[-1].status_code == 429 and by_address[-2].status_code == 400


def test_an_expired_token_is_refused_and_a_new_one_issued(settings):
    settings.ANNOTATE_TOKEN_TTL_HOURS = 1
    user = UserFactory(username="ada")
    old = Token.objects.create(user=user)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old.key}")

    refused = client.get("/api/me/")
    issued = APIClient().post("/api/auth/token/", {"username": "ada", "password": PASSWORD})

    assert refused.status_code in (401, 403)
    assert "expired" in refused.json()["detail"]
    assert issued.status_code == 200 and issued.json()["token"] != old.key


def test_a_token_can_be_revoked_by_its_owner():
    user = UserFactory()
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.post("/api/auth/token/revoke/").status_code == 204
    assert client.get("/api/me/").status_code in (401, 403)


def test_changing_the_password_revokes_the_users_tokens():
    user = UserFactory()
    token = Token.objects.create(user=user)

    user.set_password("a new long passphrase")
    user.save()

    assert not Token.objects.filter(key=token.key).exists()


def _spoofed(
    client: Client,
    username: str,
    forwarded: str,
    remote: str = "10.5.0.1",
    password: str = "wrong",  # noqa: S107
):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_a_spoofed_forwarded_for_header_does_not_dodge_the_address_lockout():
    UserFactory(username="grace")
    client = Client()
    for i in range(3):  # three accounts, each "from" another address the client made up
        _spoofed(client, f"u{i}", f"203.0.113.{i}")

    locked = _spoofed(client, "grace", "203.0.113.77", password=PASSWORD)

    assert locked.status_code == 429


def test_behind_trusted_proxies_the_address_is_the_one_the_first_proxy_saw(settings):
    settings.ANNOTATE_TRUSTED_PROXIES = 2
    UserFactory(username="grace")
    client = Client()
    # The client's own entry (left) is ignored; the first proxy wrote 198.51.100.7, the second 10.0.0.5.
    for i in range(3):
        _spoofed(client, f"u{i}", f"203.0.113.{i}, 198.51.100.7, 10.0.0.5", remote="10.0.0.6")

    same_client = _spoofed(client, "grace", "198.51.100.7, 10.0.0.5", remote="10.0.0.6")
    other_client = _spoofed(client, "grace", "198.51.100.8, 10.0.0.5", remote="10.0.0.6", password=PASSWORD)

    assert same_client.status_code == 429
    assert other_client.status_code == 302  # another client behind the same proxies is not locked out


def _token_attempts(client: APIClient, forwarded: list[str]) -> list[int]:
    return [
        client.post(
            "/api/auth/token/",
            {"username": f"user{i}", "password": "x"},
            REMOTE_ADDR="10.6.0.1",
            HTTP_X_FORWARDED_FOR=header,
        ).status_code
        for i, header in enumerate(forwarded)
    ]


def test_the_token_throttle_ignores_forwarded_for_unless_proxies_are_trusted(settings):
    settings.AXES_FAILURE_LIMIT = 1000
    settings.ANNOTATE_TOKEN_RATE_ADDRESS = "3/min"
    headers = [f"203.0.113.{i}" for i in range(4)]

    assert _token_attempts(APIClient(), headers) == [400, 400, 400, 429]

    settings.ANNOTATE_TRUSTED_PROXIES = 1
    assert _token_attempts(APIClient(), [f"198.51.100.{i}" for i in range(4)]) == [400, 400, 400, 400]
    assert _token_attempts(APIClient(), ["198.51.100.9"] * 4) == [400, 400, 400, 429]
