"""Resolving scene masks: union(picture, shapes, `use`d masks), then invert, grow and feather, at canvas size.

`MaskResolver` makes each mask once (a `use` chain shares the work), scales mask pictures to the image they
select from, and holds at most a budget of bytes of masks at once (`crops.MASK_BUDGET`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple, Optional

import numpy as np

from designedit.checks.paths import resolve_reference
from designedit.errors import Problem, SceneError, located
from designedit.imaging.pictures import load_mask_values, picture_size
from designedit.masks import crops
from designedit.masks.arrays import Array, binary, union_box
from designedit.masks.crops import Budget, Crop, amount
from designedit.masks.morphology import feather_crop, grow_crop
from designedit.masks.shapes import rasterise_shape, shape_box
from designedit.masks.derived import Derived
from designedit.model.scene import Attention, Mask, Scene, Use


class Target(NamedTuple):
    """The picture a mask selects from: its image id (for messages) and upright size (width, height). A
    mask picture of another size but the same proportions is scaled to it."""

    image: str
    size: tuple[int, int]


# a mask id and the size its pictures are scaled to (None: as they are); with the image's id too for a mask
# that reaches an attention shape (its map differs per picture, not per size)
Key = tuple[str, Optional[tuple]]


class _OverBudget(Exception):
    """Making a mask would hold more than the budget; reported at the mask asked for."""


def same_proportions(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether pictures of sizes `a` and `b` (width, height) have the same proportions, within the rounding
    of one pixel of the smaller picture (a 1000x333 photo saved at a tenth is 100x33)."""
    (sw, sh), (bw, bh) = sorted((a, b), key=lambda size: size[0] * size[1])
    if sw >= sh:  # the smaller picture's rounded short side, predicted from its long side
        return abs(bh * sw / bw - sh) <= 1 + 1e-9
    return abs(bw * sh / bh - sw) <= 1 + 1e-9


def scale_mask_picture(values: Array, size: tuple[int, int]) -> Array:
    """Mask values resized to `size` (width, height), bilinear (antialiased when shrinking), before any
    threshold, so a scaled mask keeps a clean edge."""
    from PIL import Image as PILImage

    return np.asarray(PILImage.fromarray(values, "L").resize(size, PILImage.BILINEAR), dtype=np.uint8)


class MaskResolver:
    """Computes scene masks at canvas size, kept as `Crop`s (`use` chains share the work).

    A mask picture is scaled to the image the mask selects from (`Target`) when their sizes differ but not
    their proportions, and refused when their proportions differ; without a target it is placed as it is.

    Memory: once `expect` has been told every request the caller will make, a mask is dropped as soon as
    its last user has it, so a chain of thousands of masks holds two at a time; what is held at once
    (`crops.MASK_BUDGET`) is bounded, and a document that needs more is refused at the mask that passes it.
    Without `expect`, every mask is kept (a caller asking for masks freely).

    `grey_pictures` (the reference schedule): a mask picture that is not inverted keeps its grey values
    instead of being thresholded at one half, as the authors' preprocessing reads mask pictures
    (method 12: resized, dilated, then `> 0`, so a grey edge or JPEG ringing selects its cells). An
    inverted mask is computed from thresholded pictures, as `plain` (the drawn masks' resolver) computes
    it: inverted, faint noise would select nearly everything."""

    def __init__(self, scene: Scene, width: int, height: int, load_picture: Optional[Callable[[str, str], Array]] = None,
                 grey_pictures: bool = False, plain: Optional["MaskResolver"] = None, budget: Optional[int] = None,
                 derived: Optional[Derived] = None):
        """`derived`: the maps of attention shapes (masks.derived); without it an attention shape is refused."""
        self.scene = scene
        self._derived = derived
        self.width = width
        self.height = height
        self._cache: dict[Key, Crop] = {}
        # by id, once: thousands of masks are looked up in constant time (the first of an id wins, as the
        # reader refused duplicates already)
        self._masks: dict[str, tuple[int, Mask]] = {}
        for index, mask in enumerate(scene.masks):
            self._masks.setdefault(mask.id, (index, mask))
        self._load_picture = load_picture
        self._grey_pictures = grey_pictures and load_picture is None
        # the thresholded resolver an inverted mask is computed with (grey_pictures only)
        self._plain = (plain or MaskResolver(scene, width, height, budget=budget, derived=derived)) if self._grey_pictures else None
        self._held = self._plain._held if self._plain is not None else Budget(crops.MASK_BUDGET if budget is None else budget)
        self._demand: Optional[dict[Key, int]] = None  # uses still to come, once `expect` was called
        self._reached: set[Key] = set()
        self._sizes: dict[str, tuple[int, int]] = {}
        self._pictured: dict[str, bool] = {}
        self._attending = self._reaching_attention()

    # ------------------------------------------------------------ requests

    def __call__(self, mask_id: str, image: Optional[str] = None) -> Array:
        """The mask at canvas size (a new array); `image`: the id of the image it selects from."""
        return self.crop(mask_id, image).full()

    def crop(self, mask_id: str, image: Optional[str] = None) -> Crop:
        key, target = self._key(mask_id, self._target(image))
        return self._get(key, target)

    def expect(self, mask_id: str, image: Optional[str] = None) -> None:
        """Announce one request to come (`crop` or a call): masks are then dropped after their last use."""
        self._expect(*self._key(mask_id, self._target(image)))

    def _expect(self, key: Key, target: Optional[Target]) -> None:
        """One more use of `key`; the first time, each use its mask makes (each mask is made once)."""
        if self._demand is None:
            self._demand = {}
        self._demand[key] = self._demand.get(key, 0) + 1
        stack = [(key, target)]
        while stack:
            key, target = stack.pop()
            if key in self._reached:
                continue
            self._reached.add(key)
            found = self._masks.get(key[0])
            if found is None:
                continue
            mask = found[1]
            if self._plain is not None and mask.invert:  # made by the plain resolver, once
                self._plain._expect(*self._plain._key(mask.id, target))
                continue
            for shape in mask.shapes:
                if isinstance(shape, Use):
                    used = self._key(shape.mask, target)
                    self._demand[used[0]] = self._demand.get(used[0], 0) + 1
                    stack.append(used)

    # ------------------------------------------------------------ keys and targets

    def _target(self, image: Optional[str]) -> Optional[Target]:
        if image is None:
            return None
        if image not in self._sizes:
            index, found = next(((i, im) for i, im in enumerate(self.scene.images) if im.id == image), (None, None))
            if found is None:
                raise SceneError(Problem(self._place(("images",)), f"there is no image {image!r}"))
            where = self._place(("images", index, "src"))
            path = self._resolve(found.src, where)
            with located(where):
                self._sizes[image] = picture_size(path)
        return Target(image, self._sizes[image])

    def _key(self, mask_id: str, target: Optional[Target]) -> tuple[Key, Optional[Target]]:
        """A mask that reaches no picture is the same whatever it selects from: one key for all targets."""
        if target is None or not self._reaches_picture(mask_id):
            return (mask_id, None), None
        if mask_id in self._attending:
            return (mask_id, (target.size, target.image)), target
        return (mask_id, target.size), target

    def _reaching_attention(self) -> set[str]:
        """Ids of the masks that have an attention shape or `use` one that does (one pass over the `use` edges
        backwards)."""
        users: dict[str, list[str]] = {}
        stack = []
        for _index, mask in self._masks.values():
            for shape in mask.shapes:
                if isinstance(shape, Use):
                    users.setdefault(shape.mask, []).append(mask.id)
                elif isinstance(shape, Attention):
                    stack.append(mask.id)
        reached: set[str] = set()
        while stack:
            mask_id = stack.pop()
            if mask_id not in reached:
                reached.add(mask_id)
                stack.extend(users.get(mask_id, ()))
        return reached

    def _reaches_picture(self, mask_id: str) -> bool:
        """Whether the mask or one it reaches through `use` has a picture (without recursion: chains of
        thousands are fine; a cycle is reported when the mask is made)."""
        stack, open_ = [mask_id], set()
        while stack:
            current = stack[-1]
            found = self._masks.get(current)
            if current in self._pictured or found is None:
                self._pictured.setdefault(current, False)
                stack.pop()
                continue
            used = [s.mask for s in found[1].shapes if isinstance(s, Use)]
            waiting = [u for u in used if u not in self._pictured and u not in open_]
            if current not in open_ and waiting:
                open_.add(current)
                stack.extend(waiting)
                continue
            self._pictured[current] = (found[1].src is not None or current in self._attending
                                       or any(self._pictured.get(u, False) for u in used))
            open_.discard(current)
            stack.pop()
        return self._pictured[mask_id]

    # ------------------------------------------------------------ making and holding

    def _get(self, key: Key, target: Optional[Target]) -> Crop:
        if key not in self._cache:
            # the masks it uses first, deepest first, with an explicit stack: a `use` chain of thousands of
            # masks then costs no Python recursion (each value below finds what it uses already made)
            try:
                for needed, needed_target in self._uses_first(key, target):
                    value = self._value(self._mask(needed[0]), needed_target)
                    value.data.setflags(write=False)
                    self._cache[needed] = value
                    self._held.bytes += value.nbytes
            except _OverBudget:  # the mask asked for is what makes the masks below it wait together
                raise SceneError(Problem(
                    self._place(self._mask_path(key[0])),
                    f"mask {key[0]!r} needs more than {amount(self._held.limit)} of masks at once on the "
                    f"{self.width}x{self.height} canvas (each mask it uses is kept until it is made): "
                    "use fewer large masks together, or a smaller canvas",
                )) from None
        return self._take(key)

    def _take(self, key: Key) -> Crop:
        """A made mask, for one of its uses: dropped after the last one `expect` announced."""
        value = self._cache[key]
        if self._demand is not None:
            left = self._demand.get(key, 0) - 1
            self._demand[key] = left
            if left <= 0:
                del self._cache[key]
                self._held.bytes -= value.nbytes
        return value

    def _uses_first(self, key: Key, target: Optional[Target]) -> list[tuple[Key, Optional[Target]]]:
        """`key` and every mask it reaches through `use` not made yet, each after the masks it uses."""
        order: list[tuple[Key, Optional[Target]]] = []
        ordered: set[Key] = set()
        on_path: set[Key] = set()
        stack: list[tuple[Key, Optional[Target], Optional[list]]] = [(key, target, None)]
        while stack:
            current, current_target, pending = stack[-1]
            if pending is None:
                mask = self._mask(current[0])
                on_path.add(current)
                made_elsewhere = self._plain is not None and mask.invert
                pending = [] if made_elsewhere else [self._key(s.mask, current_target) for s in mask.shapes if isinstance(s, Use)]
                stack[-1] = (current, current_target, pending)
            if pending:
                used, used_target = pending.pop(0)
                if used in on_path:
                    raise SceneError(Problem(self._place(self._mask_path(used[0])), f"mask {used[0]!r} uses itself (a `use` cycle)"))
                if used not in self._cache and used not in ordered:
                    stack.append((used, used_target, None))
                continue
            stack.pop()
            on_path.discard(current)
            order.append((current, current_target))
            ordered.add(current)
        return order

    def _value(self, mask: Mask, target: Optional[Target]) -> Crop:
        if self._plain is not None and mask.invert:
            # an inverted mask, and every mask that uses it, as if its pictures were thresholded
            return self._plain._get(*self._plain._key(mask.id, target))
        shape = (self.height, self.width)
        parts: list[Crop] = []
        if mask.src is not None:
            where = self._place(self._mask_path(mask.id) + ("src",))
            parts.append(Crop.of(self._picture(mask, where, target)[: self.height, : self.width], shape=shape))
        drawn = []
        for index, s in enumerate(mask.shapes):
            if isinstance(s, Attention):
                parts.append(Crop.of(self._attention(mask, index, s, target)[: self.height, : self.width], shape=shape))
            elif isinstance(s, Use):  # made already (`_uses_first`); made again only if a request nobody
                parts.append(self._get(*self._key(s.mask, target)))  # announced took it away meanwhile
            else:
                drawn.append(s)
        box = (0, 0, self.width, self.height) if mask.invert else union_box(
            [c.box for c in parts] + [shape_box(s, self.width, self.height) for s in drawn])
        if box is None:
            return Crop.empty(shape)
        x0, y0, x1, y1 = box
        self._check_budget((x1 - x0) * (y1 - y0))
        acc = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for c in parts:
            c.max_into(acc, (x0, y0))
        for s in drawn:
            rasterise_shape(s, self.width, self.height, out=acc, at=(x0, y0))
        if mask.invert:
            np.subtract(np.uint8(255), acc, out=acc)
        value = grow_crop(Crop(shape, x0, y0, acc), mask.grow)
        return feather_crop(value, mask.feather).trimmed()

    def _check_budget(self, more: int) -> None:
        if self._held.bytes + more > self._held.limit:
            raise _OverBudget()

    # ------------------------------------------------------------ pictures

    def _picture(self, mask: Mask, where: str, target: Optional[Target]) -> Array:
        """The mask's picture at the size of its target: grey values (`grey_pictures`) or thresholded."""
        assert mask.src is not None
        if self._load_picture is not None:
            values = self._load_picture(mask.src, where)
        else:
            path = self._resolve(mask.src, where)
            with located(where):
                values = load_mask_values(path)
        height, width = values.shape
        if target is not None and (width, height) != target.size:
            if not same_proportions((width, height), target.size):
                tw, th = target.size
                raise SceneError(Problem(
                    where,
                    f"mask {mask.id!r} is a {width}x{height} picture and the image {target.image!r} it selects from "
                    f"is {tw}x{th}: a mask picture needs its image's size, or its proportions to be scaled to it",
                ))
            values = scale_mask_picture(values, target.size)
        return values if self._grey_pictures else binary(values)

    def _attention(self, mask: Mask, index: int, shape: Attention, target: Optional[Target]) -> Array:
        """The shape's selection at its picture's size, from the map a model derived."""
        where = self._place(self._mask_path(mask.id) + ("shapes", index, "word"))
        if target is None:
            raise SceneError(Problem(where, f"mask {mask.id!r} has an attention shape, which needs a picture to select from"))
        found = self._derived.selection(target.image, shape.word, float(shape.threshold), target.size) if self._derived else None
        if found is None:
            raise SceneError(Problem(where, awaiting_sentence(mask.id, shape.word, target.image)))
        return found

    def _resolve(self, src: str, location: str) -> Path:
        origin = self.scene.origin
        if origin is None:
            raise SceneError(Problem(location, "the scene has no origin, so its pictures cannot be found"))
        return resolve_reference(origin, src, location)

    # ------------------------------------------------------------ locations

    def _place(self, path: tuple) -> str:
        from designedit.model.source import scene_place

        return scene_place(self.scene, path)

    def _mask_path(self, mask_id: str) -> tuple:
        found = self._masks.get(mask_id)
        return ("masks", found[0]) if found is not None else ("masks",)

    def _mask(self, mask_id: str) -> Mask:
        found = self._masks.get(mask_id)
        if found is None:
            raise SceneError(Problem(self._place(("masks",)), f"there is no mask {mask_id!r}"))
        return found[1]


def awaiting_sentence(mask_id: str, word: str, image: str) -> str:
    """Why a mask cannot be made yet: its attention map comes from a model."""
    return (f"mask {mask_id!r} awaits a model: where the prompt's {word!r} draws attention on image {image!r} is "
            "derived by a renderer that runs one (render with --model, or run `dedit masks` first)")
