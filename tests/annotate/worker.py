"""A real `manage.py run_worker` process for integration tests, sharing the test database and broker.

Use inside a ``@pytest.mark.django_db(transaction=True)`` test (rows must be committed for the worker
to see them)::

    env = worker_env(tmp_path)            # child environment: test DB, broker, this test's media
    with running_worker(env, tmp_path / "worker.log") as worker:
        manage(env, "import_video", str(project.id), str(path), "--wait")
        ...
        worker.kill()                     # SIGKILL the whole worker (main process and pool children)

``running_worker`` always stops the worker (SIGTERM, then SIGKILL after a bounded wait), also when
the test fails. PostgreSQL: the child gets a DATABASE_URL naming the test database. SQLite: the test
database is a file (tests/conftest.py puts it in ``<data dir>/pytest-db/db.sqlite3``) and the child
runs with that folder as its ANNOTATE_DATA_DIR, so it opens the same file and uses the file-system
broker there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

READY_MARK = "ready."  # what Celery logs once the worker consumes its queues


def _database_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = f"{auth}@" if auth else ""
        host += db["HOST"] or "localhost"
        if db["PORT"]:
            host += f":{db['PORT']}"
        return {"DATABASE_URL": f"postgres://{host}/{quote(db['NAME'], safe='')}"}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if "memory" in name or Path(name).name != "db.sqlite3":
            pytest.skip(f"the SQLite test database {name!r} is not a db.sqlite3 file a worker could open")
        return {"ANNOTATE_DATA_DIR": str(Path(name).parent)}
    pytest.skip(f"no worker environment for the database engine {db['ENGINE']}")


def worker_env(tmp_path: Path) -> dict[str, str]:
    """Environment for child processes: the test database and broker, this test's media and imports."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ANNOTATE_DATA_DIR"] = str(tmp_path / "child-data")
    env.update(_database_env())
    if "DATABASE_URL" in env and "CELERY_BROKER_URL" not in env:
        pytest.skip("PostgreSQL tests need CELERY_BROKER_URL for a worker")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ANNOTATE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ANNOTATE_WORK_DIR": str(settings.ANNOTATE_WORK_DIR),
            "ANNOTATE_IMPORT_ROOTS": ":".join(str(root) for root in settings.ANNOTATE_IMPORT_ROOTS),
            "ANNOTATE_BASE_WEIGHTS": str(settings.ANNOTATE_BASE_WEIGHTS),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while READY_MARK not in self.log():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready after {timeout} s:\n{self.log()}")
            time.sleep(0.2)

    def _signal_group(self, sig: signal.Signals) -> None:
        # The worker leads its own process group (start_new_session), pool children included.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash or an OOM kill would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it has not exited within the timeout."""
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Also reaps pool children a dead main process left behind.
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)


def start_worker(env: dict[str, str], log_path: Path, *args: str) -> WorkerProcess:
    """Start `manage.py run_worker ARGS` in its own process group, logging to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", *args],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return WorkerProcess(process=process, log_path=log_path)


@contextmanager
def running_worker(
    env: dict[str, str], log_path: Path, *args: str, ready_timeout: float = 60.0
) -> Iterator[WorkerProcess]:
    """A started, ready worker that is always stopped on exit."""
    worker = start_worker(env, log_path, *args)
    try:
        worker.wait_ready(ready_timeout)
        yield worker
    finally:
        worker.stop()


def manage(env: dict[str, str], *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run another management command in the child environment (a separate process, like a script)."""
    return finish(spawn_manage(env, *args), timeout=timeout)


def spawn_manage(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start a management command in the child environment without waiting for it (see finish)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Wait for a spawned command (killed past the timeout) and return what it printed."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def last_json(completed: subprocess.CompletedProcess[str]) -> Any:
    lines = completed.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{completed.stderr}"
    return json.loads(lines[-1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess) -> None:
    """Poll condition until it holds; past the timeout fail with WHAT and the end of the worker's log."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s\n--- worker log ---\n{worker.log()[-8000:]}")
        time.sleep(0.05)
