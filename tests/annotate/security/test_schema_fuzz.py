"""Schemathesis over the OpenAPI schema, through the real WSGI app and database: no operation answers
5xx, whatever the generated input (bounded: a few examples per operation, about a minute in all)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

EXAMPLES_PER_OPERATION = 15


def _schema() -> schemathesis.schemas.BaseSchema:
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = application  # calls go through the WSGI app, in this process
    return schema


@pytest.fixture
def same_connection() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, same_connection):
    user = UserFactory()
    project = ProjectFactory()  # ids 1.. exist, so some generated ids hit real rows
    MembershipFactory(project=project, user=user, role="manager")
    return Token.objects.create(user=user).key


@pytest.mark.django_db
def test_no_operation_answers_with_a_server_error(token):
    # One loop over the operations rather than schemathesis' pytest plugin (it does not load under
    # this pytest); each operation gets its own bounded Hypothesis run.
    headers = {"Authorization": f"Token {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in _schema().get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            call()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")

    assert not failures, "\n\n".join(failures)
