"""A big project on PostgreSQL: 200 clips and 1,000,000 boxes, the queries a labeler and a manager
wait on, each beside what the database alone needs for the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annotate_bigbench \\
        .venv/bin/python benchmarks/big_project.py [--clips 200] [--frames 250] [--boxes-per-frame 20]
        [--events-per-frame 20] [--samples 200] [--reuse] [--explain]

Builds (or with ``--reuse`` keeps) the project in the database DATABASE_URL names; that database is
emptied and migrated, so point it at a throw-away one. Boxes, frames and correction events go in with
COPY. Then, in this one invocation:

* **box window**: ``GET /api/videos/<id>/boxes/?frame_start=s&frame_end=s+29`` (what the workspace
  asks when it scrubs) through Django's test client, against the same rows fetched with one raw SQL
  statement on the same connection: p50 / p95 and the ratio;
* **dashboard**: ``GET /api/projects/<id>/efficiency/`` and one clip's ``efficiency/``, against one raw
  aggregate over the same correction events;
* **exports** of every box as COCO JSON and MOT (folder), each in a fresh subprocess: seconds and peak
  RSS against an idle subprocess, and against a raw server-side cursor streaming the same boxes to a
  file;
* with ``--explain``, EXPLAIN ANALYZE of the box window query.

Nothing is asserted: the figures go to docs/benchmarks.md with this command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_NAME = "bench-big-project"
WINDOW = 30  # frames per box window request (a second of 30 fps video around the playhead)


def _setup_django(data_dir: Path) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("big_project: set DATABASE_URL to a throw-away PostgreSQL database (see the docstring)")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef0123456789")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("ANNOTATE_HTTPS", "0")
    os.environ["ANNOTATE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _copy(table: str, columns: list[str], rows: Any) -> None:
    """COPY rows (tuples) into a table; ``None`` is NULL."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def build(*, clips: int, frames: int, per_frame: int, events_per_frame: int, seed: int) -> int:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from annotate.models import Generation, JobStatus, LabelClass, Track, Video, VideoStatus
    from annotate.services.projects import project_create

    with connection.cursor() as cursor:  # a clean slate: the database is a throw-away one
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    password = "bench-password"  # noqa: S105 (a throw-away database)
    users = [get_user_model().objects.create_user(f"bench{k}", password=password) for k in range(4)]
    project = project_create(name=BENCH_NAME, classes=["person", "car", "bike"], created_by=users[0])
    from annotate.models import Membership, Role

    Membership.objects.bulk_create(
        Membership(project=project, user=u, role=Role.ANNOTATOR) for u in users[1:]
    )
    classes = list(LabelClass.objects.filter(project=project).order_by("index").values_list("id", flat=True))
    now = timezone.now()
    videos = Video.objects.bulk_create(
        Video(
            project=project,
            name=f"clip-{v:03d}",
            source=f"clip-{v:03d}.mp4",
            status=VideoStatus.READY,
            fps=25,
            frame_count=frames,
            width=1280,
            height=720,
        )
        for v in range(clips)
    )
    generations = Generation.objects.bulk_create(
        Generation(video=v, number=1, status=JobStatus.SUCCEEDED, model="bench") for v in videos
    )
    tracks = Track.objects.bulk_create(
        Track(video=v, label_class_id=classes[k % len(classes)]) for v in videos for k in range(per_frame)
    )
    track_ids = {v.id: [t.id for t in tracks if t.video_id == v.id] for v in videos}
    _copy(
        "annotate_frame",
        ["video_id", "index", "timestamp", "image", "original_name", "sha256", "reviewed_at"],
        (
            (v.id, i, i / 25, f"frames/{v.id}/{i:06d}.jpg", "", "0" * 64, now if i % 10 == 0 else None)
            for v in videos
            for i in range(frames)
        ),
    )
    from annotate.models import Frame

    frame_ids = dict(
        ((video_id, index), pk)
        for pk, video_id, index in Frame.objects.values_list("id", "video_id", "index")
    )

    def boxes() -> Any:
        for v in videos:
            for i in range(frames):
                frame_id = frame_ids[(v.id, i)]
                for k, track_id in enumerate(track_ids[v.id]):
                    model = k % 3 == 0
                    pending = model and i % 10 != 0
                    yield (
                        now,
                        now,
                        frame_id,
                        track_id,
                        classes[k % len(classes)],
                        float((k * 61 + i * 3) % 1200),
                        float((k * 29) % 660),
                        48.5,
                        96.25,
                        "model" if model else "human",
                        generations[videos.index(v)].id if model else None,
                        round(rng.uniform(0.3, 1.0), 3) if model else None,
                        "pending" if pending else "accepted",
                        False,
                        False,
                        1,
                        None,
                        None,
                    )

    _copy(
        "annotate_box",
        [
            "created_at",
            "updated_at",
            "frame_id",
            "track_id",
            "label_class_id",
            "x",
            "y",
            "w",
            "h",
            "source",
            "generation_id",
            "score",
            "review_state",
            "occluded",
            "outside",
            "version",
            "created_by_id",
            "updated_by_id",
        ],
        boxes(),
    )

    def events() -> Any:
        stamp = now.timestamp() - clips * frames * events_per_frame
        actions = ["accept", "edit", "delete", "add"]
        for n, v in enumerate(videos):
            for i in range(0, frames, 10):  # the finished frames
                for e in range(events_per_frame):
                    stamp += rng.uniform(0.5, 6.0)
                    action = actions[(i + e) % 4]
                    yield (
                        v.id,
                        i,
                        None,
                        generations[n].id,
                        users[(n + e) % len(users)].id,
                        action,
                        1,
                        round(rng.uniform(0.5, 1.0), 3) if action == "edit" else None,
                        round(rng.uniform(1.0, 8.0), 2) if e % 2 else None,
                        datetime.fromtimestamp(stamp, UTC),
                    )

    _copy(
        "annotate_correctionevent",
        [
            "video_id",
            "frame_index",
            "box_id",
            "generation_id",
            "user_id",
            "action",
            "box_count",
            "iou",
            "seconds",
            "created_at",
        ],
        events(),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project.id


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _client(project_id: int) -> Any:
    from django.test import Client

    from annotate.models import Project

    project = Project.objects.get(id=project_id)
    client = Client(HTTP_HOST="localhost")
    assert project.created_by is not None
    client.force_login(project.created_by)
    return client


def measure_windows(project_id: int, samples: int, seed: int, explain: bool) -> dict[str, Any]:
    from django.db import connection

    from annotate.models import Video

    rng = random.Random(seed)
    client = _client(project_id)
    videos = list(Video.objects.filter(project_id=project_id).values_list("id", "frame_count"))
    sql = (
        "SELECT b.id, b.frame_id, f.index, b.track_id, b.label_class_id, b.x, b.y, b.w, b.h, b.source, "
        "b.generation_id, b.score, b.review_state, b.occluded, b.outside, b.version, b.created_at, "
        "b.updated_at FROM annotate_box b JOIN annotate_frame f ON f.id = b.frame_id "
        "WHERE f.video_id = %s AND f.index >= %s AND f.index <= %s ORDER BY f.index, b.id"
    )
    api_ms: list[float] = []
    raw_ms: list[float] = []
    counts: list[int] = []
    picks = [(rng.choice(videos), rng.random()) for _ in range(samples)]
    for (video_id, frame_count), at in picks[:5]:  # warm the path once
        start = int(at * max(1, frame_count - WINDOW))
        client.get(f"/api/videos/{video_id}/boxes/?frame_start={start}&frame_end={start + WINDOW - 1}")
    for (video_id, frame_count), at in picks:
        start = int(at * max(1, frame_count - WINDOW))
        end = start + WINDOW - 1
        began = time.perf_counter()
        response = client.get(f"/api/videos/{video_id}/boxes/?frame_start={start}&frame_end={end}")
        api_ms.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.content[:200]
        counts.append(len(response.json()))
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [video_id, start, end])
            rows = cursor.fetchall()
        raw_ms.append((time.perf_counter() - began) * 1000)
        assert len(rows) == counts[-1]
    plan = ""
    if explain:
        (video_id, frame_count), at = picks[0]
        start = int(at * max(1, frame_count - WINDOW))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, [video_id, start, start + WINDOW - 1])
            plan = "\n".join(r[0] for r in cursor.fetchall())
    return {
        "api_ms": _percentiles(api_ms),
        "raw_ms": _percentiles(raw_ms),
        "boxes": statistics.mean(counts),
        "plan": plan,
    }


def measure_dashboard(project_id: int, repeats: int) -> dict[str, Any]:
    from django.db import connection

    from annotate.models import Video

    client = _client(project_id)
    video_id = Video.objects.filter(project_id=project_id).order_by("id").values_list("id", flat=True)[0]
    rows: dict[str, Any] = {}
    aggregate = (
        "SELECT e.video_id, e.generation_id, e.user_id, e.action, count(*), sum(e.seconds), avg(e.iou) "
        "FROM annotate_correctionevent e JOIN annotate_video v ON v.id = e.video_id "
        "WHERE {} GROUP BY 1, 2, 3, 4"
    )
    for name, url, scope in (
        ("project", f"/api/projects/{project_id}/efficiency/", ("v.project_id = %s", project_id)),
        ("clip", f"/api/videos/{video_id}/efficiency/", ("v.id = %s", video_id)),
    ):
        client.get(url)  # warm
        api: list[float] = []
        raw: list[float] = []
        for _ in range(repeats):
            began = time.perf_counter()
            response = client.get(url)
            api.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.content[:200]
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(aggregate.format(scope[0]), [scope[1]])
                cursor.fetchall()
            raw.append((time.perf_counter() - began) * 1000)
        rows[name] = {"api_ms": _percentiles(api), "raw_ms": _percentiles(raw)}
    return rows


def export_child(mode: str, project_id: int, target: Path) -> dict[str, Any]:
    from django.db import connection

    from annotate.models import Project
    from annotate.services.exports import export_options_clean, export_write

    began = time.perf_counter()
    boxes = 0
    if mode in ("coco", "mot"):
        project = Project.objects.get(id=project_id)
        options = export_options_clean(project=project, format=mode, options={"frames": "all"})
        boxes = export_write(project=project, format=mode, options=options, target=target).boxes
    elif mode == "raw":
        from django.db import transaction

        connection.ensure_connection()
        assert connection.connection is not None
        with (
            transaction.atomic(),  # a server-side cursor lives in a transaction
            connection.connection.cursor(name="bench_raw") as cursor,
            target.open("w") as out,
        ):
            cursor.itersize = 10_000
            cursor.execute(
                "SELECT b.id, f.video_id, f.index, b.track_id, b.label_class_id, b.x, b.y, b.w, b.h, b.score "
                "FROM annotate_box b JOIN annotate_frame f ON f.id = b.frame_id "
                "JOIN annotate_video v ON v.id = f.video_id WHERE v.project_id = %s "
                "AND b.review_state <> 'pending' ORDER BY f.video_id, f.index, b.id",
                [project_id],
            )
            for row in cursor:
                out.write(",".join("" if c is None else str(c) for c in row) + "\n")
                boxes += 1
    return {
        "seconds": time.perf_counter() - began,
        "boxes": boxes,
        "maxrss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` would carry the parent's peak over fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(mode: str, project_id: int, data_dir: Path) -> dict[str, Any]:
    target = data_dir / {"coco": "export.json", "mot": "export-mot", "raw": "raw.csv", "idle": "idle"}[mode]
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--project",
            str(project_id),
            "--data-dir",
            str(data_dir),
            "--target",
            str(target),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--boxes-per-frame", type=int, default=20)
    parser.add_argument(
        "--events-per-frame", type=int, default=20, help="correction events per finished frame"
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the project a previous run built")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--child", choices=["idle", "coco", "mot", "raw"])
    parser.add_argument("--project", type=int)
    parser.add_argument("--target", type=Path)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="big-project-"))
    _setup_django(data_dir)
    if args.child:
        print(json.dumps(export_child(args.child, args.project, args.target)))
        return

    from annotate.models import Box, CorrectionEvent, Project

    project = Project.objects.filter(name=BENCH_NAME).first() if args.reuse else None
    if project is None:
        began = time.perf_counter()
        project_id = build(
            clips=args.clips,
            frames=args.frames,
            per_frame=args.boxes_per_frame,
            events_per_frame=args.events_per_frame,
            seed=args.seed,
        )
        print(f"built in {time.perf_counter() - began:.1f} s")
    else:
        project_id = project.id
    boxes = Box.objects.filter(frame__video__project_id=project_id).count()
    events = CorrectionEvent.objects.filter(video__project_id=project_id).count()
    print(f"project {project_id}: {args.clips} clips, {boxes:,} boxes, {events:,} correction events")

    w = measure_windows(project_id, args.samples, args.seed, args.explain)
    print(f"\nbox window ({WINDOW} frames, {w['boxes']:.0f} boxes per answer, {args.samples} requests)")
    print(f"{'':<22}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'API (DRF, JSON)':<22}{w['api_ms'][0]:>9.1f}{w['api_ms'][1]:>9.1f}")
    print(f"{'raw SQL, same rows':<22}{w['raw_ms'][0]:>9.1f}{w['raw_ms'][1]:>9.1f}")
    print(f"API / raw at p95: x{w['api_ms'][1] / w['raw_ms'][1]:.1f}")
    if w["plan"]:
        print("\nEXPLAIN ANALYZE of the window query:\n" + w["plan"])

    d = measure_dashboard(project_id, repeats=5)
    print("\nefficiency dashboard (5 requests each)")
    print(f"{'':<10}{'API p50 ms':>12}{'API max ms':>12}{'raw aggregate p50 ms':>22}")
    for name, row in d.items():
        print(f"{name:<10}{row['api_ms'][0]:>12.0f}{row['api_ms'][1]:>12.0f}{row['raw_ms'][0]:>22.1f}")

    if args.skip_exports:
        return
    rows = {mode: _run_child(mode, project_id, data_dir) for mode in ("idle", "raw", "coco", "mot")}
    idle = rows["idle"]["maxrss_mb"]
    print(f"\nexports of every box (fresh process each; idle process peak RSS {idle:.0f} MB)")
    print(f"{'':<22}{'boxes':>10}{'seconds':>9}{'peak RSS MB':>13}{'over idle MB':>14}{'x raw time':>12}")
    for mode, label in (("raw", "raw cursor to CSV"), ("coco", "COCO JSON"), ("mot", "MOT folder")):
        r = rows[mode]
        print(
            f"{label:<22}{r['boxes']:>10,}{r['seconds']:>9.1f}{r['maxrss_mb']:>13.0f}"
            f"{r['maxrss_mb'] - idle:>14.0f}{r['seconds'] / rows['raw']['seconds']:>12.2f}"
        )


if __name__ == "__main__":
    main()
