"""The typed scene model: one `.dedit` document, whatever its form (XML or JSON).

Field names follow the JSON form of `spec/format.md`; the XML reader maps
elements and attributes onto them. Lengths keep the form they were written in
(a number of pixels, or a string like "25%") so documents round-trip
unchanged; `resolve_length` turns them into pixels for a canvas size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

FORMAT_VERSION = "1.3"  # 1.1 added scale-x / scale-y to resize; 1.2 placeholders in picture srcs; 1.3 the attention shape
SUPPORTED_MAJOR = 1

PERCENT_RE = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)%$")  # ASCII digits only
ID_RE = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"

Number = Union[StrictInt, StrictFloat]
Percent = Annotated[str, Field(pattern=PERCENT_RE.pattern)]
# A length: pixels (a number) or percent of the canvas ("12.5%").
Length = Union[StrictInt, StrictFloat, Percent]
Id = Annotated[str, Field(pattern=ID_RE, min_length=1, max_length=128)]
# a word or a few words of the prompt: letters, digits, spaces, hyphens and apostrophes, no markup
ATTENTION_WORD_RE = r"^[^\W_](?:[\w' \-]*[^\W_])?$"
IdRef = Annotated[str, Field(min_length=1, max_length=128)]


def version_number(digits: str) -> int:
    """A version's MAJOR or MINOR as a number; past 18 digits only its size matters (Python refuses to convert
    more than 4300 digits, and no version is that large)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else 10**18


def resolve_length(value: float | str, extent: float) -> float:
    """Pixels for a length; `extent` is the canvas width or height it is relative to."""
    if isinstance(value, str):
        return float(value[:-1]) * extent / 100.0
    return float(value)


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- shapes
# what a mask is made of: other masks (by id), and shapes drawn on the canvas


class Use(_Node):
    """Union with another mask, by id."""

    shape: Literal["use"] = "use"
    mask: IdRef


class Rect(_Node):
    shape: Literal["rect"] = "rect"
    x: Length
    y: Length
    width: Length
    height: Length


class Ellipse(_Node):
    shape: Literal["ellipse"] = "ellipse"
    cx: Length
    cy: Length
    rx: Length
    ry: Length


class Polygon(_Node):
    shape: Literal["polygon"] = "polygon"
    points: list[tuple[Length, Length]] = Field(min_length=3)


class Attention(_Node):
    """Where the scene's prompt `word` draws the UNet's cross-attention on the picture the mask selects
    from (format 1.3): derived by a model (spec/format.md 5.4), so a render resolves it before compiling."""

    shape: Literal["attention"] = "attention"
    word: str = Field(min_length=1, max_length=64, pattern=ATTENTION_WORD_RE)
    threshold: Number = Field(default=0.5, ge=0, le=1)  # of the map normalised to [0, 1]


Shape = Annotated[Union[Rect, Ellipse, Polygon, Use, Attention], Field(discriminator="shape")]


# ---------------------------------------------------------------- resources


class Image(_Node):
    id: Id
    src: str = Field(min_length=1)


class Mask(_Node):
    """A selection in canvas pixels: a picture (white = selected) and/or shapes, unioned."""

    id: Id
    src: Optional[str] = Field(default=None, min_length=1)
    shapes: list[Shape] = Field(default_factory=list)
    invert: StrictBool = False
    grow: Number = 0  # pixels; negative shrinks
    feather: Number = Field(default=0, ge=0)  # pixels of soft edge

    @model_validator(mode="after")
    def _has_content(self) -> "Mask":
        if self.src is None and not self.shapes:
            raise ValueError("a mask needs a picture (src) or at least one shape")
        return self


# ---------------------------------------------------------------- background edits


class Remove(_Node):
    op: Literal["remove"] = "remove"
    mask: IdRef
    refine: Optional[IdRef] = None  # artifact-suppression mask (method, Eq. 4)


class Pan(_Node):
    """Camera pan: content moves by (dx, dy); the uncovered strip is filled."""

    op: Literal["pan"] = "pan"
    dx: Length
    dy: Length


class ZoomOut(_Node):
    """Content shrinks by 1/factor about the centre; the border is filled."""

    op: Literal["zoom-out"] = "zoom-out"
    factor: Number = Field(gt=1)


Edit = Annotated[Union[Remove, Pan, ZoomOut], Field(discriminator="op")]


class Background(_Node):
    image: IdRef
    edits: list[Edit] = Field(default_factory=list)


# ---------------------------------------------------------------- layers


class Move(_Node):
    op: Literal["move"] = "move"
    dx: Length
    dy: Length


class Resize(_Node):
    """About the mask's centroid: by `scale`, or by a width ratio `scale-x` and a height ratio `scale-y`
    (format 1.1; one left out is 1)."""

    # Python code names the ratios scale_x and scale_y; documents write them with a hyphen
    op: Literal["resize"] = "resize"
    scale: Optional[Number] = Field(default=None, gt=0)
    scale_x: Optional[Number] = Field(default=None, gt=0, alias="scale-x")
    scale_y: Optional[Number] = Field(default=None, gt=0, alias="scale-y")

    @model_validator(mode="before")
    @classmethod
    def _python_names(cls, data: Any, info: ValidationInfo) -> Any:
        # Resize(scale_x=2) in code; a document's keys are taken as written (its `scale_x` is unknown)
        if isinstance(data, dict) and not (info.context or {}).get("form"):
            data = {RESIZE_ALIASES.get(k, k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _one_form(self, info: ValidationInfo) -> "Resize":
        per_axis = self.scale_x is not None or self.scale_y is not None
        if self.scale is not None and per_axis:
            raise ValueError("scale cannot be combined with scale-x or scale-y: give scale for a uniform resize, "
                             "or scale-x and scale-y for one by width and height")
        if self.scale is None and not per_axis:
            if (info.context or {}).get("form") == "xml":
                raise ValueError("<resize> needs a scale attribute (or scale-x and scale-y)")
            raise ValueError("'scale' is required (or 'scale-x' and 'scale-y')")
        return self

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: Any) -> dict:
        # a uniform resize dumps as before 1.1 (scene hashes of 1.0 documents do not change)
        return {k: v for k, v in handler(self).items() if v is not None}

    @property
    def factors(self) -> tuple[float, float]:
        """(width ratio, height ratio)."""
        if self.scale is not None:
            return float(self.scale), float(self.scale)
        return (1.0 if self.scale_x is None else float(self.scale_x)), (1.0 if self.scale_y is None else float(self.scale_y))


RESIZE_ALIASES = {"scale_x": "scale-x", "scale_y": "scale-y"}


class Flip(_Node):
    op: Literal["flip"] = "flip"
    axis: Literal["horizontal", "vertical"]


class Rotate(_Node):
    """Positive degrees turn clockwise on screen."""

    op: Literal["rotate"] = "rotate"
    degrees: Number


Transform = Annotated[Union[Move, Resize, Flip, Rotate], Field(discriminator="op")]


class Layer(_Node):
    id: Id
    image: IdRef
    mask: Optional[IdRef] = None  # may be left out when the image has alpha
    x: Length = 0  # top-left of the layer's image on the canvas
    y: Length = 0
    keep: StrictBool = False  # copy: the original stays in the background
    occluder: Optional[IdRef] = None  # mask of what hides part of the object
    transforms: list[Transform] = Field(default_factory=list)


# ---------------------------------------------------------------- document


class Canvas(_Node):
    width: StrictInt = Field(gt=0)
    height: StrictInt = Field(gt=0)


class Output(_Node):
    path: str = Field(min_length=1)


class Render(_Node):
    """Optional render settings (an addition of the full spec over the core)."""

    seed: Optional[StrictInt] = Field(default=None, ge=0, lt=2**63)
    steps: Optional[StrictInt] = Field(default=None, ge=1, le=1000)
    schedule: Optional[Literal["fast", "reference"]] = None
    guidance: Optional[Number] = Field(default=None, ge=0)


@dataclass(frozen=True)
class Origin:
    """Where a loaded scene came from: file references resolve against `base`, confined to `root`."""

    path: Optional[Path]
    base: Path
    root: Path


class Scene(_Node):
    version: str = Field(pattern=r"^[0-9]+\.[0-9]+$")
    canvas: Optional[Canvas] = None
    prompt: Optional[str] = None
    render: Optional[Render] = None
    images: list[Image] = Field(default_factory=list)
    masks: list[Mask] = Field(default_factory=list)
    background: Background
    layers: list[Layer] = Field(default_factory=list)
    output: Optional[Output] = None

    @field_validator("version")
    @classmethod
    def _major_supported(cls, v: str) -> str:
        if version_number(v.split(".")[0]) != SUPPORTED_MAJOR:
            shown = v if len(v) <= 40 else v[:37] + "..."
            raise ValueError(f"format version {shown} is not supported; this reader reads {SUPPORTED_MAJOR}.x")
        return v

    # Set by the reader; not part of the document, so not compared or serialised.
    _origin: Optional[Origin] = PrivateAttr(default=None)

    @property
    def origin(self) -> Optional[Origin]:
        return self._origin

    def with_origin(self, origin: Origin) -> "Scene":
        self._origin = origin
        return self

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    # Lookups used by the compiler; references are checked by `designedit.checks.refs`. By dictionaries made on first
    # use (a scan per lookup made a chain of thousands of masks quadratic); the first of a repeated id wins.
    _by_id: Optional[tuple] = PrivateAttr(default=None)  # (images, masks, index): the lists it was made from

    def _index(self) -> dict:
        made = self._by_id
        if made is None or made[0] is not self.images or made[1] is not self.masks:  # model_copy(update=...) too
            index: dict = {}
            for kind, items in (("image", self.images), ("mask", self.masks)):
                for item in items:
                    index.setdefault((kind, item.id), item)
            made = self._by_id = (self.images, self.masks, index)
        return made[2]

    def image(self, image_id: str) -> Image:
        return self._index()[("image", image_id)]

    def mask(self, mask_id: str) -> Mask:
        return self._index()[("mask", mask_id)]
