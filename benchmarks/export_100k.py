"""Streaming COCO export against a naive one, on a generated project with 100,000 boxes.

    .venv/bin/python benchmarks/export_100k.py [--frames 2000] [--boxes-per-frame 50] [--data-dir DIR]

Builds the project with bulk_create in a throw-away SQLite database (under --data-dir, a temporary
folder by default), then measures each export in a fresh subprocess: wall seconds and peak RSS
(ru_maxrss) in one run, the tracemalloc peak (Python allocations only) in another. ``idle`` is the
same process doing no export, so RSS deltas show what the export itself costs. Prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django(data_dir: Path) -> None:
    # A private embedded instance: SQLite and media under data_dir, whatever the shell has set.
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["ANNOTATE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(data_dir: Path, frames: int, per_frame: int) -> int:
    _setup_django(data_dir)
    from django.core.management import call_command

    from annotate.models import Box, Frame, LabelClass, Track, Video, VideoStatus
    from annotate.services.projects import project_create

    call_command("migrate", verbosity=0)
    project = project_create(name="bench", classes=["car", "person", "bike"])
    classes = list(LabelClass.objects.filter(project=project).order_by("index"))
    video = Video.objects.create(
        project=project, name="bench", source="generated", status=VideoStatus.READY,
        fps=25, frame_count=frames, width=1920, height=1080,
    )  # fmt: skip
    Frame.objects.bulk_create(
        Frame(video=video, index=i, timestamp=i / 25, image=f"frames/{video.id}/{i:06d}.jpg", sha256="0" * 64)
        for i in range(frames)
    )
    tracks = Track.objects.bulk_create(
        Track(video=video, label_class=classes[k % 3]) for k in range(per_frame)
    )
    frame_ids = list(Frame.objects.filter(video=video).order_by("index").values_list("id", flat=True))
    batch: list[Box] = []
    for i, frame_id in enumerate(frame_ids):
        for k, track in enumerate(tracks):
            batch.append(
                Box(
                    frame_id=frame_id, track=track, label_class=classes[k % 3],
                    x=(k * 37 + i) % 1800, y=(k * 19) % 1000, w=40.5, h=60.25,
                    source="model" if k % 5 == 0 else "human", score=0.9 if k % 5 == 0 else None,
                    review_state="accepted",
                )
            )  # fmt: skip
        if len(batch) >= 20_000:
            Box.objects.bulk_create(batch)
            batch.clear()
    Box.objects.bulk_create(batch)
    return project.id


def naive_export(project_id: int, target: Path) -> int:
    """What a first version would do: every row as a dict in one list, then json.dump."""
    from annotate.models import Box, Frame, LabelClass, Video

    sizes = {v.id: (v.width, v.height) for v in Video.objects.filter(project_id=project_id)}
    document: dict[str, list[dict[str, object]]] = {
        "categories": [
            {"id": c.index + 1, "name": c.name} for c in LabelClass.objects.filter(project_id=project_id)
        ],
        "images": [
            {
                "id": f.id,
                "file_name": f"v{f.video_id}_{f.index:06d}.jpg",
                "width": sizes[f.video_id][0],
                "height": sizes[f.video_id][1],
                "frame_index": f.index,
                "video_id": f.video_id,
            }
            for f in Frame.objects.filter(video__project_id=project_id).order_by("video_id", "index")
        ],
        "annotations": [
            {
                "id": b.id,
                "image_id": b.frame_id,
                "category_id": b.label_class.index + 1,
                "bbox": [b.x, b.y, b.w, b.h],
                "area": b.w * b.h,
                "iscrowd": 0,
                "track_id": b.track_id,
                "source": b.source,
                "generation": None,
                **({"score": b.score} if b.score is not None else {}),
            }
            for b in Box.objects.filter(frame__video__project_id=project_id).select_related("label_class")
        ],
    }
    with target.open("w") as out:
        json.dump(document, out)
    return Box.objects.filter(frame__video__project_id=project_id).count()


def measure(data_dir: Path, project_id: int, mode: str, trace: bool) -> dict[str, float]:
    _setup_django(data_dir)
    from annotate.models import Project
    from annotate.services.exports import ExportOptions, export_write

    project = Project.objects.get(id=project_id)
    target = data_dir / f"{mode}.json"
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    boxes = 0
    if mode == "streaming":
        boxes = export_write(project=project, format="coco", options=ExportOptions(), target=target).boxes
    elif mode == "naive":
        boxes = naive_export(project_id, target)
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "boxes": boxes,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if trace:
        result["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1024**2
    return result


def _child(data_dir: Path, project_id: int, mode: str, trace: bool) -> dict[str, float]:
    args = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--data-dir",
        str(data_dir),
        "--project",
        str(project_id),
    ]
    out = subprocess.run([*args, *(["--trace"] if trace else [])], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--boxes-per-frame", type=int, default=50)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--child", choices=["idle", "streaming", "naive"])
    parser.add_argument("--project", type=int)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.data_dir, args.project, args.child, args.trace)))
        return

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="export-bench-"))
    started = time.perf_counter()
    project_id = build(data_dir, args.frames, args.boxes_per_frame)
    print(
        f"built {args.frames} frames x {args.boxes_per_frame} boxes in {time.perf_counter() - started:.1f} s"
    )
    rows = {}
    for mode in ("idle", "streaming", "naive"):
        timed = _child(data_dir, project_id, mode, trace=False)
        traced = _child(data_dir, project_id, mode, trace=True)
        rows[mode] = {**timed, "trace_peak_mb": traced["trace_peak_mb"]}
    idle_rss = rows["idle"]["maxrss_mb"]
    print(
        f"{'export':<10} {'boxes':>7} {'seconds':>8} {'peak RSS MB':>12} {'RSS over idle':>14} "
        f"{'tracemalloc MB':>15}"
    )
    for mode in ("streaming", "naive"):
        r = rows[mode]
        print(
            f"{mode:<10} {r['boxes']:>7} {r['seconds']:>8.2f} {r['maxrss_mb']:>12.1f} "
            f"{r['maxrss_mb'] - idle_rss:>14.1f} {r['trace_peak_mb']:>15.1f}"
        )
    s, n = rows["streaming"], rows["naive"]
    print(
        f"naive / streaming: time x{n['seconds'] / s['seconds']:.2f}, "
        f"peak RSS x{n['maxrss_mb'] / s['maxrss_mb']:.2f} "
        f"(+{n['maxrss_mb'] - idle_rss:.0f} MB vs +{s['maxrss_mb'] - idle_rss:.0f} MB over idle), "
        f"tracemalloc peak x{n['trace_peak_mb'] / s['trace_peak_mb']:.1f}"
    )
    print(json.dumps({"data_dir": str(data_dir), **{m: rows[m] for m in rows}}))


if __name__ == "__main__":
    main()
