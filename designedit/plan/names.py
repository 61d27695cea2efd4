"""The names a plan gives its masks, branches and images, in one place.

Compiler passes write these names and renderers, the SVG timeline and the text
summary read them; each is built here so a name is spelt once. A mask name
ends in its resolution: `@latent` (the plan's latent grid), `@canvas` (the
output picture's size).
"""

from __future__ import annotations

LATENT = "@latent"
CANVAS = "@canvas"

# ---------------------------------------------------------------- masks

REMOVE_LATENT = "remove" + LATENT  # removals and cut layers' original masks: keys L0, blends into it
REFINE_LATENT = "refine" + LATENT  # remove OR refine, keying L0 on the refine window
OCCLUDE_LATENT = "occlude" + LATENT  # the moved occluders together: keys C^, blends into it
REMOVE_CANVAS = "remove" + CANVAS  # the removal region at canvas size (what a pixel preview fills)
OCCLUDE_CANVAS = "occlude" + CANVAS  # the moved occluders at canvas size
EDIT_CANVAS = "edit" + CANVAS  # every pixel that may change (paste-back keeps the rest)
EVERYWHERE = "*"  # a proximal op's mask meaning "E = 1 everywhere": nothing is pulled


def layer_latent(layer_id: str) -> str:
    """A layer's mask on the latent grid, in the layer's frame (before its move)."""
    return f"layer:{layer_id}{LATENT}"


def layer_canvas(layer_id: str) -> str:
    """A layer's feathered mask at canvas size, in the layer's frame (before its move)."""
    return f"layer:{layer_id}{CANVAS}"


def occluder_latent(layer_id: str) -> str:
    """A layer's occluder on the latent grid, moved with the layer."""
    return f"occlude:{layer_id}{LATENT}"


def is_latent(mask_name: str) -> bool:
    return mask_name.endswith(LATENT)


# ---------------------------------------------------------------- branches (method.md's names)

SOURCE = "S"  # the source picture, denoised along its inversion
REMOVAL = "L0"  # the background with the removals inpainted
CANVAS_BRANCH = "C"  # the fused canvas
OCCLUSION = "C^"  # the canvas key-masked by the moved occluders


def layer_branch(paste_index: int) -> str:
    """The branch of the layer pasted `paste_index`-th (1-based): L1, L2, ..."""
    return f"L{paste_index}"


# ---------------------------------------------------------------- images

BACKGROUND = "bg"  # the (panned / zoomed) background picture


def layer_image(layer_id: str) -> str:
    """A layer's own image (the reference schedule inverts each layer's picture separately)."""
    return f"layer:{layer_id}"
