"""The engine's two exceptions: bad input (with a message a person can act on) and a cancel."""

from __future__ import annotations


class EngineError(Exception):
    """Bad input or state: no frames, a box outside the image, an unknown label, a checkpoint mismatch..."""


class Cancelled(EngineError):
    """The caller's stop check returned True; the run stopped early and produced nothing."""
