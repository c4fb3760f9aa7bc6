"""Every response carries the Content-Security-Policy: pages, the admin, the API and errors alike.
(tests/browser/test_security_headers.py checks that every page still works under it.)"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/login/", "/admin/login/", "/api/projects/", "/no-such-page/"])
def test_every_response_carries_the_content_security_policy(url):
    response = Client().get(url)

    policy = response["Content-Security-Policy"]
    assert policy == settings.ANNOTATE_CSP
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
