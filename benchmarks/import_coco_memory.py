"""Peak memory of reading a large COCO file for import: the streaming reader against json.load.

    .venv/bin/python benchmarks/import_coco_memory.py [--annotations 300000]

Writes a COCO document of generated boxes (about 50 MB at the default size) to a temporary folder,
then reads it in a fresh subprocess per reader and prints wall seconds and peak RSS (ru_maxrss) next
to an idle process. ``stream`` is annotate.exchange.coco.parse_coco, what an import job runs;
``json.load`` is the whole document in memory, what the import did before it streamed.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, annotations: int) -> None:
    images = max(1, annotations // 50)
    with path.open("w") as out:
        out.write('{"categories":[{"id":1,"name":"person"}],"images":[')
        out.write(
            ",".join(
                json.dumps({"id": i, "file_name": f"{i:06d}.jpg", "width": 1920, "height": 1080})
                for i in range(images)
            )
        )
        out.write('],"annotations":[')
        for n in range(annotations):
            item = {
                "id": n,
                "image_id": n % images,
                "category_id": 1,
                "bbox": [n % 1800, 40.5, 60.25, 120.0],
                "area": 7230.0,
                "iscrowd": 0,
                "attributes": {"track_id": n % 97, "occluded": False},
            }
            out.write(("," if n else "") + json.dumps(item))
        out.write("]}")


def _child(kind: str, path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from annotate.exchange.coco import parse_coco

    started = time.perf_counter()
    count = 0
    if kind == "stream":
        with open(path, "rb") as stream:
            count = len(parse_coco(stream).items)
    elif kind == "json.load":
        with open(path, "rb") as stream:
            count = len(json.load(stream)["annotations"])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"kind": kind, "items": count, "seconds": round(seconds, 2), "peak_rss_mb": round(peak)})
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--annotations", type=int, default=300_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.json"
        _write(path, args.annotations)
        print(f"COCO file: {path.stat().st_size / 1e6:.1f} MB, {args.annotations} annotations")
        print(f"{'reader':<10} {'items':>8} {'seconds':>8} {'peak RSS MB':>12}")
        for kind in ("idle", "stream", "json.load"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{kind:<10} {row['items']:>8} {row['seconds']:>8} {row['peak_rss_mb']:>12}")


if __name__ == "__main__":
    main()
