"""Platform loop benchmark: the labeling loop driven through the real platform, as a labeler works.

    python benchmarks/platform_loop.py --clip OTB-Crossing --generations 3
    python benchmarks/platform_loop.py --all --generations 2
    python benchmarks/platform_loop.py --frames DIR --truth FILE --format otb|vot|mot|json [--name N]

It starts an embedded instance in a temporary ANNOTATE_DATA_DIR (SQLite, file-system broker):
``manage.py migrate``, a user, ``manage.py run_worker`` and gunicorn on 127.0.0.1, as separate
processes. Everything after that goes through the REST API over HTTP with a token, using the
endpoints the workspace uses (frontend/static/annotate/edits.js, workspace.js, training.js):

1. create a project with the truth's classes and upload the clip's frames as a zip; wait until ready;
2. per generation, read the suggested frames (``GET /api/videos/V/suggestions/``; generation 1 gets
   the initial pick made before any model) and on each act as an oracle labeler: accept a pre-label
   whose IoU with a truth box is >= 0.7 (``POST /api/boxes/B/accept/``), edit one with 0.3 <= IoU < 0.7
   to the truth box (``PATCH /api/boxes/B/``), delete the rest (``DELETE /api/boxes/B/``), draw the
   truth boxes nothing matched, without a track (``POST /api/videos/V/boxes/``), then finish the frame
   (``POST .../frames/I/accept-all/``) and move on (``POST .../frames/I/leave/``, which may start the
   next generation automatically, as the project's auto-train does by default);
3. start the next generation (``POST /api/videos/V/generations/``; 200 with the run auto-train
   already queued) and poll its row until it ended; then list the clip's boxes;
4. score the pre-labels on the frames nobody labeled against the truth (recall and precision at
   IoU 0.5, ``micromodels.metrics.score_clip``).

After the last generation its suggested frames are labeled too (without training), so every
generation has the live figure the dashboard shows (``GET /api/videos/V/efficiency/``,
``live_figures``: recall/precision of the engine and of the detector alone on the frames people
finished after it). The benchmark also scores the same thing itself from what it saw before
correcting (the pre-labels on those frames against the truth), so a live figure that disagrees with
what the labeler met is visible. Per generation it prints: recall, precision, the live figures, train
and pre-label seconds from the generation row, and the wall time from "5th frame finished" (the
accept-all response of the round's last frame) to "pre-labels visible" (the generation succeeded
and its pre-labels listed through the API).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from micromodels.frames import clip_box  # noqa: E402
from micromodels.metrics import iou, score_clip  # noqa: E402
from micromodels.truth import IMAGE_SUFFIXES, read_truth  # noqa: E402
from micromodels.types import Box  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
# The four real clips (/work/shared/eval/README.md): frames folder, truth file and format.
CLIPS = {
    "OTB-Crossing": ("img", "groundtruth_rect.txt", "otb"),
    "OTB-Couple": ("img", "groundtruth_rect.txt", "otb"),
    "vot15_bag": ("imgs", "groundtruth.txt", "vot"),
    "TUD-Campus": ("img1", "gt/gt.txt", "mot"),
}
ACCEPT_IOU = 0.7  # the oracle keeps a pre-label this close to a truth box unchanged
EDIT_IOU = 0.3  # ... drags one at least this close onto the truth box; deletes the rest
USERNAME = "bench-labeler"
PASSWORD = "bench-labeler-password-0123"  # noqa: S105 - a throw-away account in a throw-away instance
DONE = ("succeeded", "failed", "cancelled")


class ApiError(RuntimeError):
    pass


# -- the instance -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    data_dir: Path
    env: dict[str, str]
    base_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, name: str, argv: list[str], ready: str | None = None) -> None:
        log = (self.data_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        if ready is None:
            return
        deadline = time.monotonic() + 120
        while ready not in self.log(name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.log(name)}")
            time.sleep(0.2)

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


@contextmanager
def embedded_instance(data_dir: Path, *, time_budget: int | None, epochs: int | None) -> Iterator[Instance]:
    """migrate, a user, a worker and a web server over a fresh data folder; always stopped on exit."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        ANNOTATE_DATA_DIR=str(data_dir),
        ANNOTATE_HTTPS="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        DJANGO_SUPERUSER_USERNAME=USERNAME,
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        DJANGO_SUPERUSER_EMAIL="bench@example.invalid",
    )
    env.pop("SECRET_KEY", None)  # the embedded instance makes its own in the data folder
    if time_budget is not None:
        env["ANNOTATE_TRAIN_TIME_BUDGET"] = str(time_budget)
    if epochs is not None:
        env["ANNOTATE_TRAIN_EPOCHS"] = str(epochs)
    port = _free_port()
    instance = Instance(data_dir=data_dir, env=env, base_url=f"http://127.0.0.1:{port}")
    try:
        instance.manage("migrate", "--noinput")
        instance.manage("createsuperuser", "--noinput")
        instance.start("worker", [sys.executable, "manage.py", "run_worker"], ready="ready.")
        gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
        instance.start("web", [*gunicorn, "--workers", "1", "--threads", "4", "--timeout", "120"])
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{instance.base_url}/api/me/", timeout=5)  # noqa: S310 - our http URL
                break
            except urllib.error.HTTPError:
                break  # 401/403: the server answers
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"web server did not answer:\n{instance.log('web')}") from None
                time.sleep(0.3)
        yield instance
    finally:
        instance.stop()


# -- a REST client ------------------------------------------------------------------------------------


class Client:
    """JSON over HTTP with a token, as any script would use the API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token = ""
        self.errors: list[str] = []  # every 4xx/5xx the UI would not expect

    def request(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, ctype: str = ""
    ) -> Any:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif ctype:
            headers["Content-Type"] = ctype
        # Always the instance's own http://127.0.0.1 URL.
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=300) as response:  # noqa: S310
                text = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:2000]
            self.errors.append(f"{method} {path} -> {exc.code}: {detail}")
            raise ApiError(f"{method} {path} -> {exc.code}: {detail}") from exc
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, {} if body is None else body)

    def list(self, path: str) -> list[Any]:
        """A listing, paged or not (api.js ``list``)."""
        page = self.get(path)
        if isinstance(page, list):
            return page
        items = list(page["results"])
        while page.get("next"):
            page = self.get(page["next"].removeprefix(self.base_url))
            items += page["results"]
        return items


def _zip_frames(frames: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in frames:
            archive.write(path, path.name)
    return buffer.getvalue()


def upload_clip(client: Client, project_id: int, name: str, frames: list[Path]) -> dict[str, Any]:
    """Upload the frames as a zip (the project page's upload), then wait until the clip is ready."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n".encode(),
        _zip_frames(frames),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    video = client.request(
        "POST",
        f"/api/projects/{project_id}/videos/",
        raw=b"".join(parts),
        ctype=f"multipart/form-data; boundary={boundary}",
    )
    deadline = time.monotonic() + 600
    while video["status"] not in ("ready", "failed"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"clip {name} not ready after 600 s: {video}")
        time.sleep(0.5)
        video = client.get(f"/api/videos/{video['id']}/")
    if video["status"] != "ready":
        raise RuntimeError(f"clip {name} failed to ingest: {video.get('error')}")
    return dict(video)


# -- the oracle labeler ---------------------------------------------------------------------------------


@dataclass
class Round:
    """What the labeler did on one generation's suggested frames, and what it met there."""

    frames: list[int]
    accepted: int = 0
    edited: int = 0
    deleted: int = 0
    added: int = 0
    met: dict[int, tuple[Box, ...]] = field(default_factory=dict)  # pre-labels found on each frame
    last_finished: float = 0.0  # monotonic time of the last frame's accept-all response


def _as_box(row: dict[str, Any], label_of: dict[int, int]) -> Box:
    return Box(
        row["x"],
        row["y"],
        row["w"],
        row["h"],
        label_of[row["label_class"]],
        row["score"] or 1.0,
        None,
        "fused",
    )


def label_frame(
    client: Client, video_id: int, index: int, truth: tuple[Box, ...], class_ids: list[int], done: Round
) -> None:
    label_of = {cid: k for k, cid in enumerate(class_ids)}
    rows = [
        b
        for b in client.get(f"/api/videos/{video_id}/boxes/?frame={index}")
        if b["review_state"] == "pending"
    ]
    done.met[index] = tuple(_as_box(r, label_of) for r in rows)
    # Pair pre-labels and truth boxes one to one, closest first (as a person would).
    pairs = sorted(
        ((iou(_as_box(r, label_of), t), i, j) for i, r in enumerate(rows) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_rows: set[int] = set()
    used_truth: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < EDIT_IOU:
            break
        if i in used_rows or j in used_truth:
            continue
        used_rows.add(i)
        used_truth.add(j)
        row, t = rows[i], truth[j]
        same_class = row["label_class"] == class_ids[t.label]
        if overlap >= ACCEPT_IOU and same_class:
            client.post(f"/api/boxes/{row['id']}/accept/", {"version": row["version"]})
            done.accepted += 1
        else:
            change = {"version": row["version"], "x": t.x, "y": t.y, "w": t.w, "h": t.h}
            if not same_class:
                change["label_class"] = class_ids[t.label]
            client.request("PATCH", f"/api/boxes/{row['id']}/", change)
            done.edited += 1
    for i, row in enumerate(rows):
        if i not in used_rows:
            client.request("DELETE", f"/api/boxes/{row['id']}/?version={row['version']}")
            done.deleted += 1
    for j, t in enumerate(truth):
        if j not in used_truth:
            body = {
                "frame_index": index,
                "x": t.x,
                "y": t.y,
                "w": t.w,
                "h": t.h,
                "label_class": class_ids[t.label],
            }
            client.post(f"/api/videos/{video_id}/boxes/", body)
            done.added += 1
    client.post(f"/api/videos/{video_id}/frames/{index}/accept-all/")  # finish the frame
    done.last_finished = time.monotonic()
    client.post(f"/api/videos/{video_id}/frames/{index}/leave/")


def label_round(
    client: Client,
    video_id: int,
    truth: dict[int, tuple[Box, ...]],
    class_ids: list[int],
    per_generation: int,
) -> Round:
    suggestions = client.get(f"/api/videos/{video_id}/suggestions/?count={per_generation}")
    frames = [s["frame_index"] for s in sorted(suggestions, key=lambda s: s["rank"])]
    done = Round(frames=frames)
    for index in frames:
        label_frame(client, video_id, index, truth[index], class_ids, done)
    return done


# -- the loop -----------------------------------------------------------------------------------------


def _cancel_open_generations(client: Client, video_id: int) -> None:
    for gen in client.list(f"/api/videos/{video_id}/generations/"):
        if gen["status"] in DONE:
            continue
        try:
            client.post(f"/api/generations/{gen['id']}/cancel/")
        except ApiError:
            client.errors.pop()  # 409: it ended meanwhile, which is what we wanted
        while gen["status"] not in DONE:
            time.sleep(0.25)
            gen = client.get(f"/api/generations/{gen['id']}/")


def _frames_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def run_clip(
    client: Client, name: str, frames_dir: Path, truth_path: Path, fmt: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    frames = _frames_of(frames_dir)
    raw_truth, class_names = read_truth(truth_path, fmt, len(frames))
    project = client.post(
        "/api/projects/", {"name": f"bench {name}", "classes": [{"name": n} for n in class_names]}
    )
    classes = sorted(client.list(f"/api/projects/{project['id']}/classes/"), key=lambda c: c.get("order", 0))
    by_name = {c["name"]: c["id"] for c in classes}
    class_ids = [by_name[n] for n in class_names]
    video = upload_clip(client, project["id"], name, frames)
    vid = video["id"]
    if video["frame_count"] != len(frames):
        raise RuntimeError(f"{name}: the platform made {video['frame_count']} frames of {len(frames)}")
    width, height = video["width"], video["height"]
    # Truth boxes past the image edge (MOT has some) are labeled as their visible part.
    truth = {i: tuple(clip_box(b, width, height) for b in bs) for i, bs in raw_truth.items()}
    labeled: set[int] = set()
    rows: list[dict[str, Any]] = []
    for generation in range(1, args.generations + 2):
        done = label_round(client, vid, truth, class_ids, args.per_generation)
        labeled |= set(done.frames)
        if rows:  # the previous generation's pre-labels, as the labeler met them on these frames
            met = score_clip(done.met, truth, done.frames)
            rows[-1]["met_recall"], rows[-1]["met_precision"] = met.recall, met.precision
            rows[-1]["next_frames"] = len(done.frames)
            rows[-1]["next_actions"] = {
                "accepted": done.accepted,
                "edited": done.edited,
                "deleted": done.deleted,
                "added": done.added,
            }
        if generation > args.generations:
            # The last round only gives the last generation its live figure. Finishing its frames
            # made auto-train queue one more generation: cancel it (the dashboard's Cancel), so it
            # does not hold the worker while the next clip waits.
            _cancel_open_generations(client, vid)
            break
        started = client.request("POST", f"/api/videos/{vid}/generations/", {})
        gen = started
        while gen["status"] not in DONE:
            time.sleep(0.25)
            gen = client.get(f"/api/generations/{gen['id']}/")
        if gen["status"] != "succeeded":
            raise RuntimeError(f"{name}: generation {gen['number']} {gen['status']}: {gen.get('error')}")
        boxes = client.get(f"/api/videos/{vid}/boxes/?frame_start=0&frame_end={len(frames) - 1}")
        visible = time.monotonic()
        label_of = {cid: k for k, cid in enumerate(class_ids)}
        predicted: dict[int, list[Box]] = {}
        for row in boxes:
            if row["frame_index"] not in labeled:
                predicted.setdefault(row["frame_index"], []).append(_as_box(row, label_of))
        others = [i for i in range(len(frames)) if i not in labeled]
        s = score_clip({i: tuple(b) for i, b in predicted.items()}, truth, others)
        rows.append(
            {
                "clip": name,
                "generation": gen["number"],
                "labeled": len(labeled),
                "recall": s.recall,
                "precision": s.precision,
                "train_s": gen["train_seconds"],
                "prelabel_s": gen["prelabel_seconds"],
                "finished_to_visible_s": visible - done.last_finished,
                "model": gen["model"],
                "actions": {
                    "accepted": done.accepted,
                    "edited": done.edited,
                    "deleted": done.deleted,
                    "added": done.added,
                },
            }
        )
        print(
            f"{name} gen {gen['number']}: labeled {len(labeled)}  "
            f"R/P {_pct(s.recall)} / {_pct(s.precision)}  "
            f"train {gen['train_seconds']:.1f}s pre-label {gen['prelabel_seconds']:.1f}s  "
            f"5th frame finished -> pre-labels visible {visible - done.last_finished:.1f}s  ({gen['model']})",
            flush=True,
        )
    efficiency = client.get(f"/api/videos/{vid}/efficiency/")
    live = {row["generation"]: row for row in efficiency.get("live_figures", [])}
    for row in rows:
        figure = live.get(row["generation"], {})
        row["live"] = figure
        engine, detector = figure.get("engine") or {}, figure.get("detector") or {}
        print(
            f"{name} gen {row['generation']} live figures (dashboard): {figure.get('final_boxes')} boxes on "
            f"{figure.get('frames')} frames; "
            f"engine R/P {_pct(engine.get('recall'))} / {_pct(engine.get('precision'))}, "
            f"detector alone {_pct(detector.get('recall'))} / {_pct(detector.get('precision'))}; "
            f"as the labeler met them: {_pct(row.get('met_recall'))} / {_pct(row.get('met_precision'))}",
            flush=True,
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| clip | gen | labeled | R / P (frames nobody labeled) | live figure: engine R / P "
        "| live: detector alone R / P "
        "| pre-labels met on the next frames R / P | next round: accepted / edited / deleted / added "
        "| train + pre-label s | 5th frame finished -> pre-labels visible s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        engine, detector = r["live"].get("engine") or {}, r["live"].get("detector") or {}
        a = r.get("next_actions") or {}
        out.append(
            f"| {r['clip']} | {r['generation']} | {r['labeled']} "
            f"| {_pct(r['recall'])} / {_pct(r['precision'])} "
            f"| {_pct(engine.get('recall'))} / {_pct(engine.get('precision'))} "
            f"| {_pct(detector.get('recall'))} / {_pct(detector.get('precision'))} "
            f"| {_pct(r.get('met_recall'))} / {_pct(r.get('met_precision'))} "
            f"| {a.get('accepted')} / {a.get('edited')} / {a.get('deleted')} / {a.get('added')} "
            f"| {r['train_s']:.1f} + {r['prelabel_s']:.1f} | {r['finished_to_visible_s']:.1f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--clip", choices=sorted(CLIPS), nargs="+", help=f"clips of {EVAL}")
    which.add_argument("--all", action="store_true", help="the four clips, one after another")
    which.add_argument("--frames", type=Path, help="a folder of frame images (with --truth and --format)")
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--format", choices=("otb", "vot", "mot", "json"))
    parser.add_argument("--name", default=None, help="clip name with --frames")
    parser.add_argument("--eval", type=Path, default=EVAL, help="the folder of the real clips")
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--per-generation", type=int, default=5, help="suggested frames labeled per round")
    parser.add_argument(
        "--time-budget", type=int, default=None, help="seconds of training (platform default)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="training epochs cap (platform default)")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="instance data folder (default: a temp one)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    if args.frames is not None:
        if args.truth is None or args.format is None:
            parser.error("--frames needs --truth and --format")
        clips = [(args.name or args.frames.parent.name, args.frames, args.truth, args.format)]
    else:
        names = list(CLIPS) if args.all else args.clip
        if not args.eval.is_dir():
            parser.error(f"{args.eval} is missing (the real clips live outside the repository)")
        clips = [(n, args.eval / n / CLIPS[n][0], args.eval / n / CLIPS[n][1], CLIPS[n][2]) for n in names]
    # A SIGTERM still stops the worker and the web server (the instance's finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="platform_loop_"))
    load = os.getloadavg()
    print(f"instance in {data_dir}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)
    rows: list[dict[str, Any]] = []
    with embedded_instance(data_dir, time_budget=args.time_budget, epochs=args.epochs) as instance:
        client = Client(instance.base_url)
        client.token = client.post("/api/auth/token/", {"username": USERNAME, "password": PASSWORD})["token"]
        for name, frames_dir, truth_path, fmt in clips:
            rows += run_clip(client, name, frames_dir, truth_path, fmt, args)
        worker_log = instance.log("worker")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(_table(rows))
    if client.errors:
        print("HTTP errors:\n" + "\n".join(client.errors))
    if "Traceback" in worker_log:
        print("the worker logged a traceback; see " + str(data_dir / "worker.log"))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 1 if client.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
