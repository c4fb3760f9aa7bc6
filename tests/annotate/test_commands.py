"""Management commands: one JSON object as the last line of stdout; errors exit non-zero on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.models import LabelClass, Membership, Project, Role, Video, VideoStatus
from fixtures.make_clips import ClipTruth, make_clip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _run(name: str, *args: str) -> tuple[dict, str]:
    """call_command, returning the JSON of the last stdout line and the whole stdout."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    text = out.getvalue()
    return json.loads(text.strip().splitlines()[-1]), text


@pytest.fixture
def clip(import_root: Path) -> ClipTruth:
    return make_clip(import_root / "clip", frames=12, width=96, height=64, objects=1, seed=1)


@pytest.fixture
def ingest_inline(tasks_inline) -> None:
    """The ingest runs in this process when its task is sent (after the import's commit)."""


def test_create_project_prints_the_new_project_as_json(db):
    result, _ = _run("create_project", "Birds", "--classes", "gull, tern,heron")

    project = Project.objects.get(pk=result["id"])
    assert project.name == "Birds"
    assert list(LabelClass.objects.filter(project=project).values_list("name", "index")) == [
        ("gull", 0),
        ("tern", 1),
        ("heron", 2),
    ]
    assert result == {"id": project.id, "name": "Birds", "classes": ["gull", "tern", "heron"]}


def test_create_project_makes_the_named_user_its_owner(db):
    alice = UserFactory(username="alice")

    result, _ = _run("create_project", "Cars", "--classes", "car", "--manager", "alice")

    assert Membership.objects.get(project_id=result["id"], user=alice).role == Role.OWNER


def test_create_project_with_an_unknown_manager_is_an_error(db):
    with pytest.raises(CommandError, match="No user named 'bob'"):
        call_command("create_project", "Cars", "--classes", "car", "--manager", "bob", stdout=StringIO())
    assert not Project.objects.exists()


def test_create_project_without_classes_is_an_error(db):
    with pytest.raises(CommandError, match="at least one label class"):
        call_command("create_project", "Cars", "--classes", " , ", stdout=StringIO())


def test_import_video_without_wait_returns_the_queued_clip_at_once(project, clip):
    result, _ = _run("import_video", str(project.id), str(clip.video_path), "--name", "gulls")

    video = Video.objects.get(pk=result["id"])
    assert result == {"id": video.id, "frames": 0, "status": "queued"}
    assert (video.name, video.project_id) == ("gulls", project.id)


@pytest.mark.django_db(transaction=True)  # the task is sent on commit
def test_import_video_passes_the_sampling_options(project, clip, ingest_inline):
    result, _ = _run(
        "import_video", str(project.id), str(clip.video_path), "--wait", "--fps", "5", "--max-width", "48"
    )

    video = Video.objects.get(pk=result["id"])
    assert result == {"id": video.id, "frames": 6, "status": "ready"}
    assert (video.width, video.height, video.sample_fps, video.max_width) == (48, 32, 5.0, 48)


@pytest.mark.django_db(transaction=True)  # the task is sent on commit
def test_import_video_wait_reports_a_failed_ingest_as_json_and_an_error(project, import_root, ingest_inline):
    (import_root / "notes.mp4").write_text("not a video")
    out = StringIO()

    with pytest.raises(CommandError, match=r"Video \d+ failed to ingest: notes.mp4 could not be opened"):
        call_command("import_video", str(project.id), str(import_root / "notes.mp4"), "--wait", stdout=out)

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["status"] == "failed" and result["frames"] == 0
    assert "could not be opened as a video" in result["error"]


def test_import_video_wait_gives_up_after_the_timeout_when_no_worker_runs(project, clip):
    out = StringIO()

    with pytest.raises(CommandError, match=r"still queued after 0\.2 s .*is a worker running"):
        call_command(
            "import_video", str(project.id), str(clip.video_path), "--wait", "--timeout", "0.2", stdout=out
        )

    assert json.loads(out.getvalue().strip().splitlines()[-1])["status"] == "queued"


def test_import_video_refuses_a_path_outside_the_import_folders(project, tmp_path):
    with pytest.raises(CommandError, match="outside the folders clips may be imported from"):
        call_command("import_video", str(project.id), str(tmp_path), stdout=StringIO())
    assert not Video.objects.exists()


def test_an_error_still_ends_stdout_with_one_json_object_naming_it(project, tmp_path):
    out = StringIO()
    with pytest.raises(CommandError, match="outside the folders"):
        call_command("import_video", str(project.id), str(tmp_path), stdout=out)

    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert "outside the folders clips may be imported from" in last["error"]
    assert not Video.objects.exists()


def test_import_video_into_a_missing_project_is_an_error(db, clip):
    with pytest.raises(CommandError, match="No project with id 4242"):
        call_command("import_video", "4242", str(clip.video_path), stdout=StringIO())


def test_setup_demo_creates_the_demo_account_project_and_clip_and_reuses_them(db, import_root):
    first, _ = _run("setup_demo")
    second, _ = _run("setup_demo")

    assert first == second
    assert first["username"] == "demo" and first["password"] == "demo-password"
    user = authenticate(username="demo", password="demo-password")
    assert user is not None
    project = Project.objects.get(pk=first["project"])
    assert project.name == "Demo: moving shapes"
    assert list(project.classes.values_list("name", flat=True)) == ["square", "disc"]
    assert Membership.objects.get(project=project, user=user).role == Role.OWNER
    video = Video.objects.get(pk=first["video"])
    assert (video.project_id, video.status) == (project.id, VideoStatus.QUEUED)
    assert Path(video.source) == (import_root / "demo" / "clip.mp4").resolve()
    assert Project.objects.count() == 1 and Video.objects.count() == 1


def test_setup_demo_takes_a_username_and_password_and_resets_a_changed_password(db):
    _run("setup_demo", "--username", "ada", "--password", "first-pass-123")
    result, _ = _run("setup_demo", "--username", "ada", "--password", "second-pass-456")

    assert result["password"] == "second-pass-456"
    assert authenticate(username="ada", password="second-pass-456") is not None


def test_a_command_error_exits_non_zero_with_the_message_on_stderr(tmp_path):
    # run_worker validates its queues before it touches the database or the broker.
    completed = subprocess.run(
        [sys.executable, "manage.py", "run_worker", "--queues", "cpu,video"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode != 0
    assert "Unknown queue(s) video; choose from cpu, gpu." in completed.stderr
    assert completed.stdout == ""
