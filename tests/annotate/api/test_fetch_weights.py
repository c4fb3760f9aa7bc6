"""fetch_weights downloads only when asked, pins the hash, and refuses a mismatch (a local server)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

PAYLOAD = b"not really a checkpoint, but bytes with a known hash" * 100


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/yolo-test.pt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def weights_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "weights-root"
    settings.ANNOTATE_WEIGHTS_ROOTS = [root]
    return root


def test_a_named_model_is_downloaded_into_the_weights_folder_with_its_hash_pinned(server, weights_root):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    call_command("fetch_weights", "yolo-test", "--url", f"{server}/yolo-test.pt", "--sha256", digest)

    assert (weights_root / "yolo-test.pt").read_bytes() == PAYLOAD
    assert (weights_root / "yolo-test.pt.sha256").read_text().split()[0] == digest


def test_a_hash_mismatch_is_refused_and_nothing_is_kept(server, weights_root):
    with pytest.raises(CommandError, match="sha256 mismatch"):
        call_command("fetch_weights", "yolo-test", "--url", f"{server}/yolo-test.pt", "--sha256", "0" * 64)
    assert list(weights_root.iterdir()) == []


def test_a_file_changed_after_pinning_is_refused(server, weights_root):
    call_command("fetch_weights", "yolo-test", "--url", f"{server}/yolo-test.pt")
    (weights_root / "yolo-test.pt").write_bytes(b"tampered")
    with pytest.raises(CommandError, match="no longer matches its pinned sha256"):
        call_command("fetch_weights", "yolo-test", "--url", f"{server}/yolo-test.pt")


def test_an_unreachable_server_says_the_machine_looks_offline(weights_root):
    with pytest.raises(CommandError, match="offline"):
        call_command("fetch_weights", "yolo-test", "--url", "http://127.0.0.1:9/yolo-test.pt")
    assert not weights_root.exists() or list(weights_root.iterdir()) == []
