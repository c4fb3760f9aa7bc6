"""`check --deploy --fail-level WARNING` passes with production settings: not one warning of any app."""

from __future__ import annotations

import secrets

from tests.annotate.test_settings import PRODUCTION, _manage


def test_check_deploy_passes_at_warning_level(tmp_path):
    completed = _manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        **PRODUCTION,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout
