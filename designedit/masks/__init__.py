"""Masks: rasterising scene masks at canvas size, and the method's mask preprocessing.

Every mask is a (height, width) uint8 array, 0..255. Binary decisions
(centroid, cut, latent masks) use >= 128. Scene masks are computed and kept as
`Crop`s, the box around their pixels, so that thousands of masks on a 40 MP
canvas take what their pixels take; `MaskGroup` folds a region's masks.

A scene mask's value is union(picture, shapes, `use`d masks), then invert,
then grow (square dilation, negative erodes), then feather (a linear soft
edge that keeps the >= 128 shape).

    arrays      plain mask arrays: threshold, place, paste (boxes and shifts: imaging.geometry)
    shapes      rasterising rect, ellipse and polygon at pixel centres
    crops       `Crop` (a mask kept to its extent) and the byte budgets of a compile
    morphology  grow and feather, on whole masks or crops
    resolve     `MaskResolver`: scene masks, `use` chains, mask pictures scaled to their image
    latent      `MaskGroup`, and the reference's and the fast schedule's way to the latent grid

Everything public is importable from `designedit.masks` itself. The limits (`crops.MASK_BUDGET`,
`crops.LAYER_BUDGET`, `morphology.LINE_RADIUS`) are read from their own modules when used: a test that
lowers one sets it there.
"""

from __future__ import annotations

from designedit.masks.arrays import Array, Box, bbox, binary, centroid, pad_box, paste_max, place, shift, square_kernel, union, union_box
from designedit.masks.crops import LAYER_BUDGET, MASK_BUDGET, Budget, Crop, amount
from designedit.imaging.geometry import scaled_kernel  # in imaging, as the preview uses it too
from designedit.masks.latent import (MaskGroup, any_coverage, coverage_of_crop, dilate_anchored, dilated_crop, downsample_topleft,
                                     fast_latent, reference_latent, reference_latent_of_sum, resize_linear, scaled_radius,
                                     shift_latent)
from designedit.masks.morphology import LINE_RADIUS, SMALL_RADIUS, feather, feather_crop, grow, grow_crop
from designedit.masks.derived import AttentionUse, Derived, attention_uses
from designedit.masks.resolve import Key, MaskResolver, Target, same_proportions, scale_mask_picture
from designedit.masks.shapes import rasterise_ellipse, rasterise_polygon, rasterise_rect, rasterise_shape, shape_box

__all__ = [
    "Array", "Box", "bbox", "binary", "centroid", "pad_box", "paste_max", "place", "shift", "square_kernel", "union", "union_box",
    "LAYER_BUDGET", "MASK_BUDGET", "Budget", "Crop", "amount",
    "MaskGroup", "any_coverage", "coverage_of_crop", "dilate_anchored", "dilated_crop", "downsample_topleft", "fast_latent",
    "reference_latent", "reference_latent_of_sum", "resize_linear", "scaled_kernel", "scaled_radius", "shift_latent",
    "LINE_RADIUS", "SMALL_RADIUS", "feather", "feather_crop", "grow", "grow_crop",
    "AttentionUse", "Derived", "attention_uses",
    "Key", "MaskResolver", "Target", "same_proportions", "scale_mask_picture",
    "rasterise_ellipse", "rasterise_polygon", "rasterise_rect", "rasterise_shape", "shape_box",
]
