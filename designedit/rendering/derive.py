"""Resolving a scene's model-derived masks before it compiles (format 1.3's `attention` shape).

`requests` lists the maps a scene needs, one per (image, word), each with what decides it (the picture, the
prompt, the steps, the size the picture is inverted at); `derive` asks the renderer for them through its
optional `derive_masks` (rendering.protocol) and returns the `Derived` the compiler reads. The core never
names a renderer: one that runs a model derives the maps (SDXL), one that does not may find them in the cache
(`attention_cache`), another refuses in one sentence.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from designedit.errors import DeditError
from designedit.masks.derived import Derived, attention_uses
from designedit.model.scene import Scene
from designedit.rendering.protocol import MaskRequest


def requests(scene: Scene, steps: Optional[int], latent_scale: int, native_size: int) -> list[MaskRequest]:
    """The maps `scene` needs, in document order. `steps`: as given to the render (None: the scene's, else
    the default), the inversion's steps; each picture is inverted at the size the fast schedule renders it."""
    from designedit.checks.paths import resolve_reference
    from designedit.compiler.options import resolve_options
    from designedit.compiler.sizes import render_size
    from designedit.imaging.pictures import picture_size
    from designedit.model.source import scene_place
    from designedit.plan import Size

    uses = attention_uses(scene)
    if not uses:
        return []
    opts = resolve_options(scene, None, steps, latent_scale, None, None)
    origin = scene.origin
    if origin is None:
        raise DeditError("the scene has no origin, so the pictures its attention masks select from cannot be found.")
    index = {image.id: i for i, image in reversed(list(enumerate(scene.images)))}
    masks: dict[tuple[str, str], list[str]] = {}
    for use in uses:
        masks.setdefault(use.pair, [])
        if use.mask not in masks[use.pair]:
            masks[use.pair].append(use.mask)
    out = []
    for (image_id, word), names in masks.items():
        i = index[image_id]
        path = resolve_reference(origin, scene.images[i].src, scene_place(scene, ("images", i, "src")))
        width, height = picture_size(path)
        size = render_size(Size(width, height), "fast", latent_scale, native_size)
        out.append(MaskRequest((image_id, word), path, opts.prompt, word, opts.steps, (size.width, size.height), tuple(names)))
    return out


def derive(renderer: Any, name: str, scene: Scene, steps: Optional[int],
           progress: Optional[Callable[[int, int], None]] = None) -> Optional[Derived]:
    """The maps of `scene`'s attention masks from `renderer` (None when it has none)."""
    wanted = requests(scene, steps, renderer.latent_scale, getattr(renderer, "native_size", 1024))
    if not wanted:
        return None
    method = getattr(renderer, "derive_masks", None)
    if method is None:
        raise DeditError(f"the {name} renderer cannot derive attention masks (mask {wanted[0].masks[0]!r} has one); "
                         "render with a renderer that runs a model (--model).")
    maps = method(wanted, progress=progress)
    missing = [r for r in wanted if r.key not in maps]
    if missing:
        raise DeditError(f"the {name} renderer derived no map for {missing[0].word!r} on image {missing[0].key[0]!r}.")
    return Derived(dict(maps))
