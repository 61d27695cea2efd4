"""Derived attention maps in the content-addressed cache (rendering.cache), shared by renderers.

A map is keyed by what decides it: the picture's bytes, the model, the prompt, the word, the steps and the
size the picture was inverted at. A second entry, keyed by the picture, the prompt and the word only, holds
the map last derived with any model and steps, for a renderer that runs none (the preview) and so can name
neither.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from designedit.imaging.files import file_sha256
from designedit.rendering.cache import Cache, cache_key
from designedit.rendering.protocol import MaskRequest

_KIND = "attention-map-v1"


def _parts(request: MaskRequest) -> list:
    return [file_sha256(request.picture), request.prompt, request.word, request.steps, list(request.size)]


def key(request: MaskRequest, model: str) -> str:
    return cache_key(_KIND, model, *_parts(request))


def any_model_key(request: MaskRequest) -> str:
    """The latest map of this picture, prompt and word, whatever the model, steps and size that derived it."""
    return cache_key(_KIND, "latest", *_parts(request)[:3])


def put(cache: Cache, request: MaskRequest, model: str, grid: np.ndarray, latest_only: bool = False) -> None:
    """Keep `grid` (float32 in [0, 1]) for this model, and as the latest of any model (`latest_only`: only
    that, for a map found under this model's key)."""
    data = {"map": np.asarray(grid, np.float32), "model": np.array(model)}
    if not latest_only:
        cache.put_arrays(key(request, model), data)
    cache.put_arrays(any_model_key(request), data)


def get(cache: Cache, request: MaskRequest, model: Optional[str] = None) -> Optional[tuple[np.ndarray, str]]:
    """(map, the model that derived it) for this model and the request's steps and size (None: the latest of
    any model and steps), or None."""
    found = cache.get_arrays(key(request, model) if model is not None else any_model_key(request))
    if found is None or "map" not in found or "model" not in found:
        return None
    grid = np.asarray(found["map"], np.float32)
    if grid.ndim != 2 or not np.all(np.isfinite(grid)):
        return None
    return np.clip(grid, 0.0, 1.0), str(found["model"])
