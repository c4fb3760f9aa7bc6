"""Frame-image fetch latency of a warm server: the annotation UI's hot path.

    python benchmarks/frame_fetch.py [--frames 240] [--fetch 200] [--width 640] [--height 360]
    python benchmarks/frame_fetch.py --url http://host:8000 --token TOKEN --video ID [--fetch 200]

Without --url it builds a throwaway embedded instance (SQLite, own data dir): generates a clip with
fixtures/make_clips.py, ingests it through the platform's own services, creates a user and token,
starts gunicorn (gthread worker, so keep-alive works) on a free port, and removes it all afterwards.
Then it fetches frames 0..fetch-1 of the clip in order (GET /api/videos/{id}/frames/{i}/image) over
one keep-alive HTTP connection and prints one JSON line: p50/p95/mean ms and frames per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _prepare(data_dir: Path, frames: int, width: int, height: int) -> dict[str, object]:
    """Runs inside a child process whose environment points Django at ``data_dir``."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotate.services.projects import project_create
    from annotate.services.videos import video_create_from_path, video_ingest
    from fixtures.make_clips import make_clip

    call_command("migrate", verbosity=0)
    clip = make_clip(data_dir / "imports" / "clip", frames=frames, width=width, height=height, images=False)
    assert clip.video_path is not None
    user = get_user_model().objects.create_user("bench")  # token auth only
    project = project_create(name="bench", classes=["square", "disc"], created_by=user)
    video = video_create_from_path(project=project, path=clip.video_path, created_by=user)
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    if video.status != "ready":
        raise SystemExit(f"ingest failed: {video.status} {video.error}")
    return {"token": Token.objects.create(user=user).key, "video": video.id, "frames": video.frame_count}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start in time")


def fetch(url: str, token: str, video: int, count: int) -> dict[str, object]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    headers = {"Authorization": f"Token {token}"}
    path = f"{parts.path.rstrip('/')}/api/videos/{video}/frames/{{}}/image"

    def get(target: str, accept: str = "image/*") -> int:
        conn.request("GET", target, headers={**headers, "Accept": accept})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{target}: HTTP {response.status} {body[:200]!r}")
        return len(body)

    get(path.format(0))  # warm-up: connection, first query, worker imports
    # Baseline: the same auth + routing for the smallest authenticated endpoint, no file.
    baseline: list[float] = []
    for _ in range(count):
        t0 = time.perf_counter()
        get(f"{parts.path.rstrip('/')}/api/me/", accept="application/json")
        baseline.append((time.perf_counter() - t0) * 1000)
    timings: list[float] = []
    total_bytes = 0
    started = time.perf_counter()
    for index in range(count):
        t0 = time.perf_counter()
        total_bytes += get(path.format(index))
        timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    conn.close()
    timings.sort()
    return {
        "benchmark": "frame_fetch",
        "frames": count,
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 3),
        "mean_ms": round(statistics.fmean(timings), 3),
        "max_ms": round(timings[-1], 3),
        "frames_per_s": round(count / elapsed, 1),
        "me_p50_ms": round(statistics.median(baseline), 3),
        "p50_over_me_p50": round(statistics.median(timings) / statistics.median(baseline), 2),
        "mean_kib": round(total_bytes / count / 1024, 1),
    }


def run_local(args: argparse.Namespace) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="annotate-bench-"))
    (data_dir / "static").mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "ANNOTATE_MEDIA_ROOT", "ANNOTATE_STATIC_ROOT"}
    }
    env.update(
        ANNOTATE_DATA_DIR=str(data_dir),
        ANNOTATE_IMPORT_ROOTS=str(data_dir / "imports"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    server = None
    try:
        prepared = subprocess.run(
            [
                sys.executable,
                __file__,
                "--prepare",
                str(data_dir),
                str(args.frames),
                str(args.width),
                str(args.height),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        info = json.loads(prepared.stdout.strip().splitlines()[-1])
        if int(info["frames"]) < args.fetch:
            raise SystemExit(f"clip has {info['frames']} frames, fewer than --fetch {args.fetch}")
        port = _free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
             "--workers", "1", "--threads", "2", "--keep-alive", "30", "--log-level", "warning"],
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        _wait_until_up(port, server)
        result = fetch(f"http://127.0.0.1:{port}", str(info["token"]), int(info["video"]), args.fetch)
        return {
            **result,
            "server": "gunicorn gthread (1 worker), embedded SQLite",
            "image": f"{args.width}x{args.height} jpeg",
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--prepare":
        data_dir, frames, width, height = Path(sys.argv[2]), *map(int, sys.argv[3:6])
        print(json.dumps(_prepare(data_dir, frames, width, height)))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server to target instead of a throwaway one")
    parser.add_argument("--token", help="API token (with --url)")
    parser.add_argument("--video", type=int, help="video id (with --url)")
    parser.add_argument("--fetch", type=int, default=200, help="frames to fetch, in order from 0")
    parser.add_argument("--frames", type=int, default=240, help="frames of the generated clip")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    args = parser.parse_args()
    if args.url:
        if not (args.token and args.video):
            parser.error("--url needs --token and --video")
        result = fetch(args.url, args.token, args.video, args.fetch)
    else:
        result = run_local(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
