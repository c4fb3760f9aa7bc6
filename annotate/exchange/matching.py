"""Which frame of a clip a label file means: by original picture name first, then by a visible rule.

Plain Python. A frame reference from a file is resolved in this order:

1. the picture's original name (the name it had in the image folder or zip the clip was made from),
   exactly, then by its canonical name (annotate.exchange.names: Label Studio prefixes, Roboflow
   suffixes and extensions stripped);
2. the platform's own export names ``v<clip>_<index>`` (0-based);
3. a platform frame id (``image_id`` of the platform's COCO export, for COCO results lists);
4. a frame number the file states (COCO ``frame_index``/``frame_id``, CVAT ``frame``, MOT frame - 1,
   Label Studio video ``frame`` - 1);
5. the number a file name ends with, minus ``first_frame``. ``first_frame`` is given by the user
   (0: CVAT and Datumaro video frames; 1: ffmpeg, Label Studio, MOT image folders) or inferred when
   only one reading fits the clip (a frame 0 named, or a number equal to the frame count). When both
   fit, the import is refused with a message that names the option. A clip made from named pictures
   never falls back to numbers unless ``first_frame`` is given: a name that matches none of its
   pictures is an error, not a guess.

Frame numbers (4 and 5) count the frames of the clip's *source*: ``Frame.source_index``, which is the
clip's own index unless the clip was sampled (``--fps``) or lost frames at decode. A number on a
source frame the clip did not keep is no frame of the clip: the box is skipped and counted, never
moved to a neighbour. Names (1-3) are not numbers and are never translated.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from annotate.exchange.labels import FrameRef
from annotate.exchange.names import base_name, canonical_stem, trailing_number

_EXPORT_NAME = re.compile(r"^v(\d+)_(\d+)$")


@dataclass(frozen=True)
class Match:
    """Where a reference lands: ``index`` (a frame of the clip), or why not."""

    index: int | None
    what: str  # the reference as messages name it, or the problem
    problem: bool = False  # ``what`` is a problem with the reference itself (an unknown name)
    not_kept: bool = False  # a source frame number the sampled clip did not keep
    number: int | None = None  # the frame number it was matched by (rules 4 and 5)


@dataclass
class ClipFrames:
    """The frames of one clip as matching needs them."""

    name: str
    count: int
    original_names: list[str]  # by index; "" where the frame has none (video files)
    pks: dict[int, int] = field(default_factory=dict)  # Frame.id -> index
    # By index: the frame's number in the source (0-based); empty means the same as the index.
    source_numbers: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        numbers = self.source_numbers or list(range(self.count))
        self.by_number: dict[int, int] = {number: index for index, number in enumerate(numbers)}
        # Sampled: some source frames between the first and the last were not kept.
        self.sampled = numbers != list(range(numbers[0], numbers[0] + len(numbers))) if numbers else False
        gaps = [b - a for a, b in itertools.pairwise(numbers)]
        # The source's frames reach at most one sampling step past the last frame kept.
        self.number_span = (numbers[-1] + max(gaps, default=1)) if numbers else 0
        self.exact: dict[str, int] = {}
        self.canonical: dict[str, list[int]] = {}
        for index, original in enumerate(self.original_names):
            if original:
                self.exact.setdefault(original, index)
                self.canonical.setdefault(canonical_stem(original), []).append(index)

    @property
    def named(self) -> bool:
        return bool(self.exact)


def _export_index(name: str) -> int | None:
    match = _EXPORT_NAME.match(canonical_stem(name))
    return int(match.group(2)) if match else None


class FrameMatcher:
    def __init__(self, clip: ClipFrames, refs: Iterable[FrameRef], first_frame: int | None) -> None:
        self.clip = clip
        self.first_frame = first_frame
        self.rule: str | None = None  # how numbers in names were read, for the report
        self.problem: str | None = None  # one problem for the whole file (an ambiguous numbering)
        self.numbered = 0  # references resolved by a frame number (rules 4 and 5)
        refs = list(refs)
        numbers = [n for n in (self._number_needed(r) for r in refs) if n is not None]
        if numbers and first_frame is None:
            self._infer(numbers)
        elif numbers:
            self.rule = f"frame numbers in file names read with first_frame={first_frame}"

    @property
    def numbering(self) -> str | None:
        """Which numbering frame numbers were matched by, for the report (None: no number was used)."""
        if not self.numbered:
            return None
        clip = self.clip
        if clip.sampled:
            return (
                f"frame numbers matched as frame numbers of the source video of clip {clip.name!r} "
                f"(Frame.source_index): the clip was sampled and keeps {clip.count} of its first "
                f"{clip.number_span} source frames"
            )
        return f"frame numbers matched as clip {clip.name!r}'s own (it keeps every source frame)"

    def _by_number(self, number: int, what: str) -> Match:
        self.numbered += 1
        index = self.clip.by_number.get(number)
        if index is not None:
            return Match(index, what, number=number)
        if self.clip.sampled and 0 <= number < self.clip.number_span:
            return Match(None, what, not_kept=True, number=number)
        return Match(None, what, number=number)

    def _by_name(self, name: str) -> tuple[int | None, str | None]:
        base = base_name(name)
        if base in self.clip.exact:
            return self.clip.exact[base], None
        candidates = self.clip.canonical.get(canonical_stem(name), [])
        if len(candidates) == 1:
            return candidates[0], None
        if len(candidates) > 1:
            shown = ", ".join(str(i) for i in candidates[:5])
            return None, f"image {name!r} fits several frames by name ({shown}); rename the pictures apart"
        exported = _export_index(name)
        if exported is not None:
            return exported, None
        return None, None

    def _number_needed(self, ref: FrameRef) -> int | None:
        if ref.pk is not None or ref.name is None or ref.index is not None:
            return None
        found, problem = self._by_name(ref.name)
        if found is not None or problem is not None:
            return None
        return trailing_number(ref.name)

    def _infer(self, numbers: list[int]) -> None:
        if self.clip.named:
            return  # names must match; resolve() says how to opt into numbers
        low, high, count = min(numbers), max(numbers), self.clip.number_span
        fits = [first for first in (0, 1) if low - first >= 0 and high - first < count]
        if len(fits) == 1:
            self.first_frame = fits[0]
            why = "a frame 0 is named" if fits[0] == 0 else f"frame {high} is named and the clip has {count}"
            self.rule = f"frame numbers in file names read as {fits[0]}-based ({why})"
        elif len(fits) == 2:
            self.problem = (
                f"the file names frames by number ({low}-{high}) and clip {self.clip.name!r} has {count} "
                f"{'source ' if self.clip.sampled else ''}frames, so both numberings fit: say which with "
                "first_frame=0 (the first frame is 0: "
                "CVAT, Datumaro video frames, this platform's exports) or first_frame=1 (the first frame "
                "is 1: ffmpeg's default, Label Studio, MOT image folders)"
            )
        else:
            self.first_frame = 0

    def resolve(self, ref: FrameRef) -> Match:
        """Where ``ref`` lands in the clip, or why it does not."""
        if ref.pk is not None:
            return Match(self.clip.pks.get(ref.pk), f"image id {ref.pk}")
        if ref.name is not None:
            what = f"image {ref.name!r}"
            found, problem = self._by_name(ref.name)
            if problem is not None:
                return Match(None, problem, problem=True)
            if found is not None:
                return Match(found, what)
            if ref.index is not None:
                return self._by_number(ref.index, f"{what} (frame {ref.index})")
            number = trailing_number(ref.name)
            if number is None or self.first_frame is None:
                if self.clip.named:
                    return Match(
                        None,
                        f"{what} is not the name of any picture of clip {self.clip.name!r} "
                        f"(such as {self.clip.original_names[0]!r}); to match by the number in the name, "
                        "give first_frame=0 or first_frame=1",
                        problem=True,
                    )
                return Match(None, what)
            number -= self.first_frame
            return self._by_number(number, f"{what} (frame {number})")
        if ref.index is not None:
            return self._by_number(ref.index, f"frame {ref.index}")
        return Match(None, "a box without a frame")
