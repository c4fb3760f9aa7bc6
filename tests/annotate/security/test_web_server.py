"""The web server as scripts/start runs it (config/gunicorn.py): uploads that stall cannot freeze the
app, and each instance has its own control socket."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

STALLED = 24  # more than the old 2 workers x 4 threads


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own server
        return int(response.status)


def _stalled_upload(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(
        b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n--x\r\n"
    )
    return conn


def test_stalled_uploads_neither_freeze_the_app_nor_hold_their_threads(tmp_path: Path):
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "ANNOTATE_DATA_DIR": str(tmp_path / "data"),
        "ANNOTATE_UPLOAD_IDLE_SECONDS": "2",
        "SECRET_KEY": "test-only-secret-key-not-for-production-0123456789abcdef",
        "ANNOTATE_HTTPS": "0",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.py",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stalled: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(f"http://127.0.0.1:{port}/login/") == 200
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        stalled = [_stalled_upload(port) for _ in range(STALLED)]
        time.sleep(0.5)  # let the server hand each one to a thread (not a browser test; no condition to poll)

        assert _get(f"http://127.0.0.1:{port}/login/") == 200
        # The server gives up on each silent upload: it answers or closes; it does not wait forever.
        for conn in stalled:
            conn.settimeout(30)
            with contextlib.suppress(ConnectionResetError):
                conn.recv(65536)
        assert (tmp_path / "data" / "gunicorn.ctl").exists()
    finally:
        for conn in stalled:
            conn.close()
        server.terminate()
        server.wait(timeout=30)
