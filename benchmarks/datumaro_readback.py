"""Read a folder of this platform's exports back with Datumaro and print what it finds.

    python benchmarks/datumaro_readback.py EXPORTS_DIR

Runs under any Python with ``datumaro`` installed (it is not a dependency of the platform: it was
tried in its own environment, see docs/formats.md). EXPORTS_DIR holds one export per format in a
folder named after it: coco (with images), yolo, mot, cvat, cvat_images (with images), voc. Prints
per format the items, boxes (CVAT "outside" boxes apart), tracks, occluded boxes and label names.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import datumaro as dm

READERS = [
    ("coco", "coco_instances"),
    ("yolo", "yolo"),
    ("mot", "mot_seq"),
    ("cvat", "cvat"),
    ("cvat_images", "cvat"),
    ("voc", "voc_detection"),
]


def main() -> None:
    warnings.filterwarnings("ignore")
    root = Path(sys.argv[1])
    for name, reader in READERS:
        path = root / name
        if name == "mot":
            path = next(p for p in path.iterdir() if p.is_dir())  # the clip's sequence folder
        try:
            dataset = dm.Dataset.import_from(str(path), reader)
        except Exception as exc:
            print(name, "FAILED", type(exc).__name__, str(exc)[:300])
            continue
        boxes = [a for item in dataset for a in item.annotations if a.type == dm.AnnotationType.bbox]
        visible = [b for b in boxes if not b.attributes.get("outside")]
        tracks = {b.attributes["track_id"] for b in visible if b.attributes.get("track_id") is not None}
        occluded = sum(1 for b in visible if b.attributes.get("occluded"))
        labels = [c.name for c in dataset.categories()[dm.AnnotationType.label]]
        print(
            f"{name}: items {len(dataset)}, boxes {len(visible)}, outside {len(boxes) - len(visible)}, "
            f"tracks {len(tracks)}, occluded {occluded}, labels {labels}"
        )


if __name__ == "__main__":
    main()
