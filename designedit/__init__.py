"""dedit: declarative, training-free image editing with SDXL (the DesignEdit method).

The core never imports torch: loading, validating and compiling a scene work
without any ML stack. Public API:

    designedit.load(path) -> Scene
    designedit.dump(scene, form) -> str          # form: "xml" | "json"
    designedit.compile(scene, schedule="fast") -> Plan
    designedit.render(path_or_scene, ...) -> RenderResult   # .image, .stats, .renderer, .save(path)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from .errors import DeditError, Problem, SceneError
from .model import Scene

if TYPE_CHECKING:
    from .renderer import RenderOptions, RenderResult

__version__ = "0.1.0"

__all__ = ["load", "dump", "compile", "render", "Scene", "SceneError", "DeditError", "Problem", "__version__"]


def load(path, root=None, check_files: bool = True) -> Scene:
    from .io import load as _load

    return _load(path, root=root, check_files=check_files)


def dump(scene: Scene, form: str = "xml") -> str:
    from .io import dump as _dump

    return _dump(scene, form)


def compile(scene: Scene, schedule: str = "fast", **options: Any):  # noqa: A001 - the public name
    from .compiler import compile_scene

    return compile_scene(scene, schedule=schedule, **options)


def render(
    scene_or_path: "Scene | str | Path",
    output: "Optional[Path | str]" = None,
    *,
    renderer: str = "auto",
    model: Optional[str] = None,
    schedule: Optional[str] = None,
    steps: Optional[int] = None,
    seed: Optional[int] = None,
    paste_back: Optional[bool] = None,
    layers_dir: "Optional[Path | str]" = None,
    stats_path: "Optional[Path | str]" = None,
    root: "Optional[Path | str]" = None,
    device: Optional[str] = None,
    dtype: Optional[str] = None,
    cache_dir: "Optional[Path | str]" = None,
    progress: Optional[bool] = None,
    options: "Optional[RenderOptions]" = None,
    announce: Optional[Callable[[str], None]] = None,
) -> "RenderResult":
    """Render a scene and return the picture; write files only where asked.

    scene_or_path: a `Scene` (from `designedit.load`) or the path of a .dedit file.
    output: a .png to write (atomically, with `dedit:*` metadata); None writes nothing (the default).
        `result.save(path)` writes the same file later (with the same checks: never one of the scene's files).
    renderer: "auto" (SDXL when a model is configured or found in the local Hugging Face cache, else the
        preview), "preview", "sdxl" or another installed renderer; `result.renderer` says which ran.
    model: the SDXL model: a diffusers folder, a hub id in the local Hugging Face cache or a .safetensors
        file (default: $DEDIT_MODEL).
    schedule: "fast" or "reference"; steps, seed: override the scene's (defaults: the scene's, else fast,
        50 and 0).
    paste_back: keep the source pixels outside the edited region (default: yes, or `options.paste_back`).
    layers_dir: also write the background and each layer as RGBA PNGs and an OpenRaster stack there.
    stats_path: also write the render statistics as JSON there (they are in `result.stats` anyway).
    root: the folder file references may not leave (default: the document's folder).
    device ("auto", "cuda", "mps", "cpu"), dtype ("fp16", "bf16", "fp32"), cache_dir: SDXL settings;
        `options` (a RenderOptions) gives the rest (offload, extra); the named arguments that are given
        (not None) win over it.
    progress: show a progress bar on stderr for long renders (default: silent, or `options.progress`).
    announce: a callable that receives one line saying which renderer was chosen and why (default: none).

    Returns a RenderResult: `image` ((h, w, 3) uint8), `layers`, `stats`, `metadata`, `renderer`, `save()`.
    Raises SceneError for an invalid scene (its `problems` list each one), DeditError for anything else
    (no model, an output that cannot be written). Nothing is printed unless `progress` or `announce` asks.
    """
    from .rendering import render as _render

    return _render(
        scene_or_path, output, renderer=renderer, model=model, schedule=schedule, steps=steps, seed=seed,
        paste_back=paste_back, layers_dir=layers_dir, stats_path=stats_path, root=root, device=device, dtype=dtype,
        cache_dir=cache_dir, progress=progress, options=options, announce=announce,
    )
