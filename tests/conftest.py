"""Shared test setup: every test gets its own media and data folders; factories for common rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, ProjectFactory, UserFactory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """SQLite: keep the test database in a file, not in memory, so a worker subprocess can share it.

    It lies in ``<data dir>/pytest-db/db.sqlite3``: a worker started with that folder as its
    ANNOTATE_DATA_DIR opens the same database (see tests/annotate/worker.py).
    """
    from django.conf import settings

    database: dict[str, Any] = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = Path(database["NAME"]).parent / "pytest-db"
        folder.mkdir(parents=True, exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(folder / "db.sqlite3")


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ANNOTATE_WORK_DIR = tmp_path / "work"
    settings.ANNOTATE_IMPORT_ROOTS = [tmp_path / "imports"]
    (tmp_path / "imports").mkdir()
    settings.ANNOTATE_BASE_WEIGHTS = str(tmp_path / "weights" / "absent.pt")
    yield


@pytest.fixture
def import_root(tmp_path: Path) -> Path:
    """The allowed server-side import folder of this test."""
    return tmp_path / "imports"


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def project(db, user):
    project = ProjectFactory()
    MembershipFactory(project=project, user=user, role="manager")
    return project


@pytest.fixture
def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


BROKER_REFUSAL = "Error 111 connecting to 127.0.0.1:6379. Connection refused."


@pytest.fixture
def broker_down(monkeypatch) -> None:
    """Sending any task fails the way Celery's send fails when Redis is unreachable."""
    from kombu.exceptions import OperationalError

    from config.celery import app

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError(BROKER_REFUSAL)

    monkeypatch.setattr(app, "send_task", refuse)


@pytest.fixture
def sent_tasks(monkeypatch) -> list[tuple[str, list[Any], str]]:
    """Tasks the code sends, recorded as (name, args, queue) instead of reaching the broker (no worker
    runs in a unit test; a message left in the queue would reach a later test's worker)."""
    from config.celery import app

    sent: list[tuple[str, list[Any], str]] = []

    def record(name: str, args: list[Any] | None = None, queue: str = "", **_: Any) -> None:
        sent.append((name, list(args or []), queue))

    monkeypatch.setattr(app, "send_task", record)
    return sent


@pytest.fixture
def tasks_inline(monkeypatch) -> None:
    """Every task runs in this process the moment it is sent, as Celery's eager mode would run it
    (``send_task`` by name ignores that mode). Use in ``django_db(transaction=True)`` tests: tasks are
    sent when the transaction that made their row commits."""
    import annotate.tasks  # noqa: F401 - registers the tasks with the app
    from config.celery import app

    def run(name: str, args: list[Any] | None = None, **_: Any) -> None:
        app.tasks[name].apply(args=list(args or []), throw=True)

    monkeypatch.setattr(app, "send_task", run)
