"""The per-process decoded-frame cache behind micromodels.frames.read_frame."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from micromodels.errors import EngineError
from micromodels.frames import (
    DEFAULT_FRAME_CACHE_BYTES,
    clear_frame_cache,
    frame_cache_stats,
    read_frame,
    set_frame_cache_limit,
)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_frame_cache()
    set_frame_cache_limit(DEFAULT_FRAME_CACHE_BYTES)
    yield
    clear_frame_cache()
    set_frame_cache_limit(DEFAULT_FRAME_CACHE_BYTES)


def _write(path: Path, value: int, size: tuple[int, int] = (32, 24)) -> Path:
    image = np.full((size[1], size[0], 3), value, dtype=np.uint8)
    assert cv2.imwrite(str(path), image)
    return path


def test_a_frame_read_twice_is_decoded_once_and_each_caller_gets_its_own_copy(tmp_path):
    path = _write(tmp_path / "a.png", 40)
    first = read_frame(path)
    first[:] = 255  # a caller scribbling on its frame must not change what the next caller reads
    second = read_frame(path)
    assert int(second.max()) == 40
    stats = frame_cache_stats()
    assert (stats.hits, stats.misses, stats.frames) == (1, 1, 1)
    assert stats.bytes == second.nbytes


def test_a_rewritten_file_is_decoded_again(tmp_path):
    path = _write(tmp_path / "a.png", 40)
    assert int(read_frame(path).max()) == 40
    _write(path, 90, size=(48, 24))  # another size: the cache key (mtime, size) changes
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = read_frame(path)
    assert int(again.max()) == 90 and again.shape == (24, 48, 3)


def test_the_cache_holds_at_most_its_limit_dropping_the_least_recently_used(tmp_path):
    paths = [_write(tmp_path / f"{i}.png", i) for i in range(6)]
    one = 32 * 24 * 3
    set_frame_cache_limit(3 * one)
    for path in paths[:3]:
        read_frame(path)
    read_frame(paths[0])  # used again: now the most recent
    read_frame(paths[3])  # pushes out the least recently used, paths[1]
    stats = frame_cache_stats()
    assert (stats.frames, stats.bytes) == (3, 3 * one)
    before = frame_cache_stats().misses
    read_frame(paths[0])
    assert frame_cache_stats().misses == before  # still held
    read_frame(paths[1])
    assert frame_cache_stats().misses == before + 1  # was dropped
    set_frame_cache_limit(one)  # shrinking drops frames at once
    assert frame_cache_stats().bytes <= one


def test_limit_zero_keeps_nothing_and_a_missing_file_is_an_engine_error(tmp_path):
    set_frame_cache_limit(0)
    path = _write(tmp_path / "a.png", 7)
    read_frame(path)
    read_frame(path)
    assert frame_cache_stats().frames == 0
    set_frame_cache_limit(DEFAULT_FRAME_CACHE_BYTES)
    with pytest.raises(EngineError, match="cannot read frame image"):
        read_frame(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(EngineError, match="cannot read frame image"):
        read_frame(tmp_path / "bad.png")
