"""The compare-and-set inside box_update, under a write that lands between its read and its write."""

from __future__ import annotations

import pytest

from annotate.errors import StaleVersionError
from annotate.models import Box
from annotate.services import boxes as box_services
from tests.factories import BoxFactory

pytestmark = pytest.mark.django_db


def test_a_concurrent_edit_between_read_and_write_makes_the_later_edit_stale(video, user, monkeypatch):
    box = BoxFactory(frame=video.frames.first())
    check_geometry = box_services._check_geometry

    def concurrent_writer_wins(*args, **kwargs):
        # Another request commits its edit after this one has read version 1.
        Box.objects.filter(id=box.id).update(x=40.0, version=2)
        return check_geometry(*args, **kwargs)

    monkeypatch.setattr(box_services, "_check_geometry", concurrent_writer_wins)

    with pytest.raises(StaleVersionError) as raised:
        box_services.box_update(box_id=box.id, version=1, user=user, x=1.0)

    # The conditional UPDATE matched nothing: the error carries the other writer's box.
    assert (raised.value.current.x, raised.value.current.version) == (40.0, 2)
