"""The renderer plugin interface: what a renderer is given, what it returns, what the core asks of it.

A renderer is a class registered under a name (entry-point group `designedit.renderers`, found by
`designedit.rendering.registry`). It is constructed with the options the user gave (`RenderOptions`)
and executes plans. It never imports the compiler: the caller (`designedit.render`) compiles the scene
for the renderer's latent scale and hands it the plan.

Beside the class, a renderer package may describe itself in a cheap module-level `plugin` (a
`RendererPlugin`): its priority for `--renderer auto`, whether it can run here (`available`), its own
typed options and the command-line flags that set them. The core reads that description without
loading the class, which may import a heavy stack (torch).

Renderers say what they notice (a fallback, a slow first call) through `logging`, on the loggers
`notes_logger` gives (under "dedit"): the library prints nothing unless asked; the command line shows them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, TypeVar

if TYPE_CHECKING:  # kept out of start-up: `dedit validate` needs none of them
    import argparse
    import logging

    import numpy as np

    from designedit.plan import Plan

NOTES_LOGGER = "dedit"
T = TypeVar("T")


def notes_logger(name: str) -> "logging.Logger":
    """The logger of a renderer module's notes, "dedit.<name>" ("sdxl.unet"). "dedit" gets a NullHandler:
    the library stays silent (without one, Python prints warnings itself) until its user installs a
    handler (the command line: designedit.cli.notes)."""
    import logging  # here, not at the top: `dedit validate` needs no logging

    notes = logging.getLogger(NOTES_LOGGER)
    if not any(isinstance(handler, logging.NullHandler) for handler in notes.handlers):
        notes.addHandler(logging.NullHandler())
    return logging.getLogger(f"{NOTES_LOGGER}.{name}")


@dataclass
class RenderOptions:
    """What a user can say about how to render. The fields here concern every renderer; a renderer's own
    settings travel typed in `renderer_options` (one frozen dataclass per renderer, found with `of`)."""

    paste_back: bool = True
    progress: bool = False  # a progress bar on stderr: the CLI turns it on, a library call stays silent
    cache_dir: Optional[Path] = None  # the inversion cache's folder (designedit.rendering.cache)
    cache_max_bytes: Optional[int] = None  # its bound (None: $DEDIT_CACHE_SIZE, else 4 GiB)
    renderer_options: tuple[Any, ...] = ()  # each renderer's own options, at most one of each class

    def of(self, kind: type[T]) -> T:
        """The options of class `kind` (a renderer's own), else `kind()`: its defaults."""
        return next((given for given in self.renderer_options if type(given) is kind), None) or kind()

    def with_renderer_options(self, *given: Any) -> "RenderOptions":
        """A copy whose renderer options of each class in `given` are replaced by (or become) those."""
        kinds = {type(g) for g in given}
        return replace(self, renderer_options=(*(o for o in self.renderer_options if type(o) not in kinds), *given))


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


# a result's layer pictures are named "layer:<id>" (beside "background"): --layers and the .ora read them so
LAYER_PREFIX = "layer:"


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


@dataclass(frozen=True)
class MaskRequest:
    """One map a model derives before a render compiles (format 1.3's `attention` shape): where the prompt's
    `word` draws the UNet's cross-attention on the picture at `picture`, inverted at `size` (width, height: the
    render size the compiler gives that picture) for `steps` DDIM steps. `key` is (image id, word); `masks`
    names the scene masks that need it (for messages)."""

    key: tuple[str, str]
    picture: Path
    prompt: str
    word: str
    steps: int
    size: tuple[int, int]
    masks: tuple[str, ...] = ()


class Renderer(Protocol):
    name: str

    def __init__(self, options: RenderOptions) -> None: ...

    @property
    def latent_scale(self) -> int:
        """Pixels per latent cell that plans for this renderer must use."""
        ...

    # Optional: `native_size` (int property), the side in pixels the model works
    # best at (SDXL: 1024); plans render at about its square. Absent means 1024.
    # Optional: `options_read` (class attribute, a set of option names, the argparse dests of flags
    # another renderer declares, such as {"device"}): flags this renderer reads although another declares
    # them; the CLI notes the other renderers' flags given to it.
    # Optional, for a package without a `plugin`: `available(options) -> (bool, one sentence why)`
    # (a classmethod that loads nothing heavy), which `auto` then asks.

    # Optional: `derive_masks(requests: Sequence[MaskRequest], progress=None) -> dict[key, np.ndarray]`, the
    # maps a model derives (float32 in [0, 1], any grid size; designedit.rendering.derive): called by the
    # render session before compiling a scene that has attention masks. A renderer without it refuses them.
    # `progress(done, total)` counts the whole render; a renderer that works in phases also calls
    # `progress.phase(label, done, total)`, each phase with its own count, when the callable has that
    # method (designedit.rendering.session.Progress, the CLI's display, does).
    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult: ...


@dataclass(frozen=True)
class Availability:
    """A renderer's answer to "can you run with these options?" (`RendererPlugin.available`)."""

    ok: bool
    # one clause for the line that explains the choice: where the model comes from, or why it cannot run
    # ("" when there is nothing to add)
    reason: str
    # the options it would run with, completed (SDXL: the model taken from $DEDIT_MODEL or found in the
    # local Hugging Face cache); None: as given
    options: Optional[RenderOptions] = None
    # non-empty when the user's settings ask for this renderer, in words that say how ("a model is
    # configured (--model m)"): `auto` then reports a failure to load it instead of taking the next one
    insisted: str = ""


class RendererPlugin(Protocol):
    """A renderer package's description of itself, read without loading its renderer class: the
    attribute `plugin` of the module its entry point names (`designedit.rendering.registry`)."""

    priority: int  # `auto` asks the highest first (SDXL 100, preview 10, a package without a plugin 0)
    label: str  # how sentences name its options: "they are SDXL options"
    install: str  # the pip requirement that brings its dependencies ("designedit[sdxl]"), or ""
    chosen_when: str  # how `--renderer auto` help says when it is chosen ("when a model is configured"); "": always
    options_type: Optional[type]  # its frozen dataclass of options (in RenderOptions.renderer_options), or None

    def add_arguments(self, group: argparse._ArgumentGroup) -> None:
        """Add its command-line flags to `group` (dedit render and watch)."""
        ...

    def options_from_args(self, args: argparse.Namespace) -> Any:
        """Its `options_type` instance from the parsed flags (None when it has no options)."""
        ...

    def available(self, options: RenderOptions, by_name: bool = False) -> Availability:
        """Whether it can run with `options`, cheaply (nothing heavy imported). `by_name`: the user named
        it (--renderer NAME), so what stops it is a DeditError in one sentence, not a quiet no."""
        ...

    def preflight(self, options: RenderOptions) -> None:
        """Raise DeditError for what can be told before loading the class (no model, a model path that
        does not exist, a missing install); run before a renderer the user asked for is loaded."""
        ...
