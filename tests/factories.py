"""factory_boy factories for the platform's rows."""

from __future__ import annotations

from typing import cast

import factory
from django.contrib.auth import get_user_model

from annotate import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")

    @factory.post_generation
    def classes(obj, create, extracted, **kwargs):
        if not create:
            return
        for index, name in enumerate(extracted or ["square", "disc"]):
            models.LabelClass.objects.create(project=obj, name=name, index=index, color="#3366ff")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = models.Role.ANNOTATOR


def jpeg_bytes(width: int, height: int, shade: int = 0) -> bytes:
    """A small real JPEG: a flat colour per shade, so different frames have different bytes."""
    import cv2
    import numpy as np

    image = np.full((height, width, 3), (shade * 37 % 256, shade * 11 % 256, 128), dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


class VideoFactory(factory.django.DjangoModelFactory):
    """A clip as it looks after ingest (status ready); add frames with FrameFactory or make_frames."""

    class Meta:
        model = models.Video

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"clip{n}.mp4")
    source = factory.LazyAttribute(lambda v: v.name)
    status = models.VideoStatus.READY
    fps = 10.0
    width = 64
    height = 48


class FrameFactory(factory.django.DjangoModelFactory):
    """A frame whose JPEG really exists in settings.MEDIA_ROOT (under frames/<video>/)."""

    class Meta:
        model = models.Frame

    video = factory.SubFactory(VideoFactory)
    index = factory.Sequence(lambda n: n)
    timestamp = factory.LazyAttribute(lambda f: f.index / (f.video.fps or 10.0))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        import hashlib

        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        video, index = kwargs["video"], kwargs["index"]
        data = jpeg_bytes(video.width or 64, video.height or 48, shade=index)
        if "image" not in kwargs:
            kwargs["image"] = default_storage.save(f"frames/{video.id}/{index:06d}.jpg", ContentFile(data))
            kwargs["sha256"] = hashlib.sha256(data).hexdigest()
        return super()._create(model_class, *args, **kwargs)


def make_frames(video: models.Video, count: int) -> list[models.Frame]:
    """Frames 0..count-1 of the clip, and the clip's frame counters to match."""
    frames = [cast(models.Frame, FrameFactory(video=video, index=i)) for i in range(count)]
    models.Video.objects.filter(id=video.id).update(frame_count=count, frames_done=count, frames_total=count)
    video.refresh_from_db()
    return frames


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Track

    video = factory.SubFactory(VideoFactory)
    label_class = factory.LazyAttribute(lambda t: t.video.project.classes.order_by("index").first())


class BoxFactory(factory.django.DjangoModelFactory):
    """A human box by default; pass source="model", review_state="pending", score=... for predictions."""

    class Meta:
        model = models.Box

    frame = factory.SubFactory(FrameFactory)
    label_class = factory.LazyAttribute(lambda b: b.frame.video.project.classes.order_by("index").first())
    x = 4.0
    y = 4.0
    w = 10.0
    h = 8.0
