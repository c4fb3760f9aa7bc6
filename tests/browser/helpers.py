"""Setup and page helpers shared by the browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from django.contrib.auth.models import User

from annotate.models import Video
from annotate.services.projects import project_create
from annotate.services.videos import video_create_from_path, video_ingest
from fixtures.make_clips import make_clip
from tests.factories import UserFactory

HTML_CLASS = "<b>bold</b><img src=x onerror=alert(1)>"


def ready_clip(import_root: Path, *, frames: int = 12, classes=None):
    """A manager, their project and a clip decoded into frames, ready to label."""
    user = cast(User, UserFactory())
    project = project_create(
        name="Road <i>survey</i>",
        classes=classes or [{"name": "car", "color": "#e15759"}, {"name": HTML_CLASS, "color": "#4e79a7"}],
        created_by=user,
    )
    truth = make_clip(import_root / "clip", frames=frames, width=320, height=240, objects=2, seed=1)
    assert truth.video_path is not None
    video = video_create_from_path(project=project, path=truth.video_path, name="clip <one>")
    video_ingest(video_id=video.id)
    video.refresh_from_db()
    assert video.status == "ready", video.error
    return user, project, video


def wait_frame(page, index: int) -> None:
    page.wait_for_selector(f'#stage canvas[data-frame="{index}"]')


def wait_saved(page) -> None:
    page.wait_for_selector('#save-state[data-state="saved"]')


def to_client(page, x: float, y: float) -> tuple[float, float]:
    """Client coordinates of an image pixel on the frame canvas."""
    return page.evaluate(
        """([x, y]) => {
            const c = document.querySelector('#stage canvas');
            const r = c.getBoundingClientRect();
            return [r.left + Number(c.dataset.offsetX) + x * Number(c.dataset.scale),
                    r.top + Number(c.dataset.offsetY) + y * Number(c.dataset.scale)];
        }""",
        [x, y],
    )


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag between two image pixels with the left button."""
    sx, sy = to_client(page, *start)
    ex, ey = to_client(page, *end)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(ex, ey, steps=6)
    page.mouse.up()


TIMELINE_PIXEL = """(index) => {
    const c = document.querySelector('#timeline canvas');
    const count = Number(c.getAttribute('aria-valuemax')) + 1;
    const x = Math.floor(((index + 0.25) / count) * c.width);  // off the current-frame line
    const y = Math.floor(c.height / 2);
    return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3));
}"""


def timeline_color(page, index: int) -> list[int]:
    """RGB of the timeline tick of a frame (left of its middle, clear of the current-frame line)."""
    return page.evaluate(TIMELINE_PIXEL, index)


def wait_timeline_color(page, index: int, rgb: list[int]) -> None:
    """Wait until the timeline tick of a frame is painted ``rgb`` (it repaints on an animation frame)."""
    page.wait_for_function(
        f"([index, rgb]) => ({TIMELINE_PIXEL})(index).every((v, k) => v === rgb[k])", arg=[index, rgb]
    )


def boxes_of(video: Video, frame: int) -> list:
    from annotate.models import Box

    return list(Box.objects.filter(frame__video=video, frame__index=frame).order_by("id"))
