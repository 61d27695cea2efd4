"""The renderer plugin interface and registry (entry-point group `designedit.renderers`).

A renderer is a class registered under a name. It is constructed with the
options the user gave (`RenderOptions`), tells whether it can run here
(`available`), and executes plans. It never imports the compiler: the caller
(`designedit.render`) compiles the scene for the renderer's latent scale and
hands it the plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

if TYPE_CHECKING:  # kept out of start-up: `dedit validate` needs neither
    import numpy as np

    from designedit.plan import Plan

ENTRY_POINT_GROUP = "designedit.renderers"


@dataclass
class RenderOptions:
    """What a user can say about how to render; each renderer reads what concerns it."""

    model: Optional[str] = None  # path, hub id or .safetensors file (sdxl)
    device: str = "auto"
    dtype: Optional[str] = None  # fp16 | bf16 | fp32
    offload: bool = False
    cache_dir: Optional[Path] = None
    paste_back: bool = True
    progress: bool = False  # a progress bar on stderr: the CLI turns it on, a library call stays silent
    extra: dict[str, Any] = field(default_factory=dict)


class LazyLayers(Mapping):
    """A render's layers, built on first read: a renderer may need extra work (SDXL: a VAE decode of the
    inpainted background) for pictures that only `--layers` and the Python API ever look at."""

    def __init__(self, build: "Callable[[], dict[str, np.ndarray]]") -> None:
        self._build: "Optional[Callable[[], dict[str, np.ndarray]]]" = build
        self._data: "Optional[dict[str, np.ndarray]]" = None

    def _layers(self) -> "dict[str, np.ndarray]":
        if self._data is None:
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, name: str) -> "np.ndarray":
        return self._layers()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers())

    def __len__(self) -> int:
        return len(self._layers())


@dataclass
class RenderResult:
    """What a render returns: `image`, `layers`, `stats`; `renderer` names the renderer that ran, and
    `save(path)` writes the picture as a PNG with its `dedit:*` metadata (set by `designedit.render`)."""

    image: "np.ndarray"  # (canvas h, canvas w, 3) uint8, the edited picture
    # name -> (h, w, 4) uint8 RGBA at canvas size; a dict or a LazyLayers
    layers: "Mapping[str, np.ndarray]" = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)  # at least unet_evals, seconds
    metadata: dict[str, str] = field(default_factory=dict)  # the PNG's dedit:* text chunks (seed, model, ...)
    # the rendered scene's own files (resolved), set by `designedit.render`: `save` never replaces one
    _scene_files: tuple[Path, ...] = field(default=(), init=False, repr=False, compare=False)

    @property
    def renderer(self) -> Optional[str]:
        """The name of the renderer that ran ("preview", "sdxl", ...)."""
        return self.stats.get("renderer")

    def save(self, path: "Path | str") -> Path:
        """Write the picture to `path` (a .png) atomically, with the render's metadata; returns the path.
        Missing folders are created. Checked first, as `dedit render -o` is: DestinationError (a DeditError)
        for a name that is not .png, one of the scene's own files, or a folder that cannot be written;
        DeditError when the write itself fails."""
        from designedit.rendering.outputs import check_png_destination, write_png

        check_png_destination(path, self._scene_files)
        return write_png(path, self.image, self.metadata)


class Renderer(Protocol):
    name: str

    def __init__(self, options: RenderOptions) -> None: ...

    @classmethod
    def available(cls, options: RenderOptions) -> tuple[bool, str]:
        """(can run here, one sentence why or why not), without loading anything heavy."""
        ...

    @property
    def latent_scale(self) -> int:
        """Pixels per latent cell that plans for this renderer must use."""
        ...

    # Optional: `native_size` (int property), the side in pixels the model works
    # best at (SDXL: 1024); plans render at about its square. Absent means 1024.
    # Optional: `options_read` (class attribute, a set of RenderOptions field
    # names such as {"device", "dtype"}): the model options this renderer uses;
    # the CLI notes model options given to a renderer that does not use them.

    # `progress(done, total)` counts the whole render; a renderer that works in phases also calls
    # `progress.phase(label, done, total)`, each phase with its own count, when the callable has that
    # method (designedit.rendering.session.Progress, the CLI's display, does).
    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult: ...


def renderer_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def _entry_point(name: str):
    """The installed renderer entry point called `name`, or None."""
    return next((ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name), None)


def preflight(name: str, options: RenderOptions) -> None:
    """Run the renderer package's optional module-level `preflight(options)` before its class is loaded.

    Loading a renderer class may import a heavy stack (the SDXL renderer: torch, seconds); a package can
    offer a cheap `preflight` in its top module that raises DeditError for what it can tell at once (no
    model, a model path that does not exist, a missing install). Nothing happens for an unknown name or a
    package without one; `load_renderer_class` reports those."""
    ep = _entry_point(name)
    if ep is None:
        return
    try:
        module = import_module(ep.module)
    except Exception:  # noqa: BLE001 - load_renderer_class reports a broken package
        return
    check = getattr(module, "preflight", None)
    if callable(check):
        check(options)


def load_renderer_class(name: str) -> type:
    ep = _entry_point(name)
    if ep is not None:
        return ep.load()
    known = ", ".join(renderer_names()) or "none"
    from designedit.errors import ArgumentError

    raise ArgumentError(f"no renderer named {name!r} is installed (installed: {known}).")
