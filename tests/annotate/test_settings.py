"""Production settings: `check --deploy` passes, and a missing or malformed value stops the process.

Each case runs `manage.py` in a fresh process with a clean environment, as a deployment would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ANNOTATE_DATA_DIR": str(tmp_path / "data")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DATABASE_URL": "postgres://annotate:secret@db.example.com:5432/annotate",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "ALLOWED_HOSTS": "example.com",
}


def test_check_deploy_passes_with_production_settings(tmp_path):
    completed = _manage(tmp_path, "check", "--deploy", SECRET_KEY=secrets.token_urlsafe(64), **PRODUCTION)

    assert completed.returncode == 0, completed.stderr
    # Not one deployment (security.*) warning either: HTTPS, HSTS, cookies, key, hosts, DEBUG.
    assert "security." not in completed.stdout + completed.stderr


def test_production_settings_without_a_secret_key_fail_loudly(tmp_path):
    completed = _manage(tmp_path, "check", **PRODUCTION)

    assert completed.returncode != 0
    assert "SECRET_KEY must be set in the environment when DATABASE_URL is set" in completed.stderr
    assert not (tmp_path / "data" / "secret_key").exists()


def test_production_settings_without_a_broker_fail_loudly(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(64)}
    del env["CELERY_BROKER_URL"]

    completed = _manage(tmp_path, "check", **env)

    assert completed.returncode != 0
    assert "CELERY_BROKER_URL must be set when DATABASE_URL is set" in completed.stderr


def test_a_malformed_limit_stops_the_process_naming_the_variable(tmp_path):
    completed = _manage(tmp_path, "check", ANNOTATE_MAX_FRAMES="lots")

    assert completed.returncode != 0
    assert "ANNOTATE_MAX_FRAMES='lots' is not an integer" in completed.stderr


def _transport_options(tmp_path: Path, **env: str) -> dict[str, object]:
    completed = _manage(
        tmp_path,
        "shell",
        "-c",
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.CELERY_BROKER_TRANSPORT_OPTIONS))",
        SECRET_KEY=secrets.token_urlsafe(64),
        **{**PRODUCTION, **env},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_redis_visibility_timeout_outlasts_the_longest_job_budget(tmp_path):
    # Redis hands an unacknowledged message out again after the visibility timeout: it must be longer
    # than any job may run (its hard time limit), or a live job would run twice.
    assert _transport_options(tmp_path)["visibility_timeout"] == 2 * 3600 + 600  # ingest/export: 2 h
    longest_is_import = _transport_options(tmp_path, ANNOTATE_IMPORT_TIME_LIMIT=str(5 * 3600))
    assert longest_is_import["visibility_timeout"] == 5 * 3600 + 600
    pinned = _transport_options(tmp_path, ANNOTATE_VISIBILITY_TIMEOUT="900")
    assert pinned["visibility_timeout"] == 900
