"""`designedit.render`: load, choose a renderer, compile for it, render, write.

    result = render("scene.dedit", renderer="preview")    # nothing written, nothing printed
    result.save("out.png")                                # PNG with the dedit:* metadata, atomically
    render(scene, output="out.png", layers_dir="layers/")

`output=None` writes no picture (the result is returned); the CLI passes the
default path (`default_output`). Every destination is checked before anything
is rendered (`check_destinations`: a .png name, not one of the scene's own
files, a folder that can be written); files are written only after the render
succeeded, each atomically, so an error or Ctrl-C leaves no partial output.

`RenderSession` keeps one renderer instance alive across renders (watch mode)
so whatever it keeps in memory (a loaded model, inversions) is reused.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from designedit.checks import arguments
from designedit.rendering.atomic import before_commit
from designedit.errors import DeditError, SceneError
from designedit.model.scene import Scene
from designedit.rendering.outputs import check_destination, check_not_an_input, check_png_destination
from designedit.checks.paths import resolve_reference
from designedit.plan import Plan
from designedit.rendering.protocol import RenderOptions, RenderResult
from designedit.rendering.select import Choice, choose_renderer

Announce = Callable[[str], None]


def load_scene(scene_or_path: Scene | str | Path, root: Optional[Path | str] = None) -> Scene:
    if isinstance(scene_or_path, Scene):
        return scene_or_path
    from designedit.io import load

    return load(Path(scene_or_path), root=Path(root) if root is not None else None, check_files=True)


def scene_files(scene: Scene) -> list[Path]:
    """The scene's own file (if any) and every picture it references, resolved."""
    origin = scene.origin
    if origin is None:
        return []
    files = [origin.path.resolve()] if origin.path is not None else []
    for item in [*scene.images, *scene.masks]:
        if getattr(item, "src", None):
            try:
                files.append(resolve_reference(origin, item.src))
            except SceneError:
                pass  # the reader reports it; nothing to watch there
    return files


def default_output(scene: Scene, path: Optional[Path | str] = None) -> Path:
    """The scene's `output` path (confined like any reference), else FILE's name with `.png`."""
    origin = scene.origin
    if scene.output is not None and origin is not None:
        return resolve_reference(origin, scene.output.path, location=f"{origin.path or origin.base} (output)")
    source = Path(path) if path is not None else (origin.path if origin is not None else None)
    if source is None:
        raise DeditError("the scene has no output path and no file name to derive one from; pass an output path.")
    name = source.name
    for suffix in (".json", ".dedit", ".xml"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return source.with_name(name + ".png")


def check_destinations(
    scene: Scene,
    output: Optional[Path | str] = None,
    layers_dir: Optional[Path | str] = None,
    stats_path: Optional[Path | str] = None,
) -> list[Path]:
    """Before any rendering: every output can be written, and none replaces one of the scene's files.
    DestinationError (exit status 2) names the first that cannot; nothing is written (missing folders
    are created later, with the files). Returns the scene's files (what no output may replace)."""
    inputs = scene_files(scene)
    if output is not None:
        check_png_destination(output, inputs)
    if layers_dir is not None:
        folder = Path(layers_dir)
        stem = Path(output).stem if output is not None else "layers"
        names = ["background.png", f"{stem}.ora", *(f"layer-{layer.id}.png" for layer in scene.layers)]
        for name in names:
            check_not_an_input(folder / name, inputs)
        check_destination(folder, folder=True)
    if stats_path is not None:
        check_destination(stats_path, inputs=inputs)
    return inputs


def png_metadata(plan: Plan, renderer: str, options: RenderOptions, stats: Optional[dict] = None,
                 model: Optional[str] = None) -> dict[str, str]:
    """The `dedit:*` PNG text chunks (spec/plan.md, Output metadata): what decides the pixels. `stats`: the
    renderer's, for where and in what number format a model ran (absent for a renderer without one);
    `model`: the model as the user named it (None: the renderer runs none)."""
    from designedit.version import __version__

    stats = stats or {}
    found = {key: str(stats[key]) for key in ("dtype", "device") if stats.get(key)}
    return {
        "scene-hash": plan.scene_hash,
        "seed": str(plan.seed),
        "model": model or "none",
        "schedule": plan.schedule,
        "steps": str(plan.steps),
        "guidance": str(plan.guidance_scale),
        "paste-back": "true" if options.paste_back else "false",
        **found,  # only a renderer that runs a model has them
        "renderer": renderer,
        "version": __version__,
    }


def work_summary(stats: dict) -> str:
    """What a render cost, for status lines: UNet evaluations, cache hits, and where a remembered
    branch state let it start ("resumed at step 41")."""
    line = f"{stats.get('unet_evals', 0)} UNet evaluations, {stats.get('cache_hits', 0)} cache hits"
    if stats.get("resumed_at_step") is not None:
        line += f", resumed at step {stats['resumed_at_step']}"
    return line


class RenderSession:
    """One renderer, constructed once, rendering scene after scene."""

    def __init__(
        self,
        renderer: str = "auto",
        options: Optional[RenderOptions] = None,
        announce: Optional[Announce] = None,
    ) -> None:
        """`announce` receives the line that says which renderer was chosen and why (the CLI prints it)."""
        # check=True: what a renderer asked for can tell without its heavy imports (SDXL: no model, no
        # torch) is said before its class is loaded
        self.choice: Choice = choose_renderer(renderer, options or RenderOptions(), check=True)
        self.options = replace(self.choice.options)
        if announce is not None:
            announce(self.choice.line)
        self.renderer = self.choice.cls(self.options)

    @property
    def name(self) -> str:
        return self.choice.name

    def compile(self, scene: Scene, schedule=None, steps=None, seed=None, derived=None) -> Plan:
        """`derived`: the maps of the scene's attention masks (`derive`); None derives them when it has any."""
        from designedit.compiler import compile_scene

        if derived is None:
            derived = self.derive(scene, steps)
        # None: the scene's <render> setting, else the default (decided in designedit.compiler.options)
        return compile_scene(scene, schedule=schedule, steps=steps, seed=seed, latent_scale=self.renderer.latent_scale,
                             native_size=getattr(self.renderer, "native_size", 1024), derived=derived)

    def derive(self, scene: Scene, steps=None):
        """The maps of the scene's attention masks, from the renderer (masks.Derived), or None when it has none:
        a renderer that runs a model derives them (or finds them in the cache); others refuse."""
        from designedit.masks.derived import has_attention

        if not has_attention(scene):
            return None
        from designedit.rendering.derive import derive

        progress = Progress(f"{self.name} masks") if self.options.progress else None
        try:
            return derive(self.renderer, self.name, scene, steps, progress=progress)
        finally:
            if progress is not None:
                progress.close()

    def render(
        self,
        scene: Scene,
        output: Optional[Path | str] = None,
        schedule: Optional[str] = None,
        steps: Optional[int] = None,
        seed: Optional[int] = None,
        layers_dir: Optional[Path | str] = None,
        stats_path: Optional[Path | str] = None,
        progress: Optional[Callable[[int, int], None]] = None,
        warn: Optional[Callable[[str], None]] = None,
        on_commit: Optional[Callable[[], None]] = None,
    ) -> RenderResult:
        """Compile and render `scene`, writing what is asked. `warn` receives each warning as soon as it is
        known: the plan's before the render starts (a long SDXL render need not finish to say a mask looks
        wrong), the renderer's after it. `on_commit` runs just before each file is renamed into place (the
        CLI holds Ctrl-C and SIGTERM from the first on: the result is complete from then on)."""
        started = time.perf_counter()
        output = Path(output) if output is not None else None
        inputs = check_destinations(scene, output, layers_dir, stats_path)
        plan = self.compile(scene, schedule=schedule, steps=steps, seed=seed)
        compiled = time.perf_counter()
        warn = warn or (lambda sentence: None)
        for sentence in plan.warnings:
            warn(sentence)
        if progress is None and self.options.progress:
            progress = Progress(f"{self.name} render")
        try:
            result = self.renderer.render(plan, progress=progress)
        finally:
            if progress is not None and hasattr(progress, "close"):
                progress.close()
        expected = (plan.canvas.height, plan.canvas.width)
        if tuple(result.image.shape[:2]) != expected:
            raise DeditError(
                f"the {self.name} renderer returned a {result.image.shape[1]}x{result.image.shape[0]} picture "
                f"for a {plan.canvas.width}x{plan.canvas.height} canvas."
            )
        metadata = png_metadata(plan, self.name, self.options, result.stats, getattr(self.choice.own_options, "model", None))
        stats = {
            "renderer": self.name,
            "unet_evals": 0,
            "cache_hits": 0,
            **result.stats,
            "paste_back": self.options.paste_back,
            "schedule": plan.schedule,
            "steps": plan.steps,
            "seed": plan.seed,
            "scene_hash": plan.scene_hash,
            "canvas": [plan.canvas.width, plan.canvas.height],
            "render_size": [plan.render.width, plan.render.height],
            "planned_unet_evals": {"inversion": plan.cost.inversion, "denoise": plan.cost.denoise, "total": plan.cost.total},
            "compile_seconds": round(compiled - started, 4),
            "warnings": list(plan.warnings) + list(result.stats.get("warnings", [])),  # the scene's, then the renderer's
        }
        for sentence in result.stats.get("warnings", []):
            warn(sentence)
        with before_commit(on_commit):
            _write(result, metadata, stats, output, layers_dir, stats_path, started)
        result.stats = stats
        result.metadata = metadata
        result._scene_files = tuple(inputs)  # what result.save() must not replace either
        return result


def _write(result: RenderResult, metadata: dict[str, str], stats: dict, output: Optional[Path],
           layers_dir: Optional[Path | str], stats_path: Optional[Path | str], started: float) -> None:
    """The files a render was asked for, each atomically: the picture, the layers, then the statistics
    (which record where the others went)."""
    from designedit.rendering.outputs import write_json, write_png

    if output is not None:
        write_png(output, result.image, metadata)
        stats["output"] = str(output)
    if layers_dir is not None:
        from designedit.rendering.ora import write_layers

        stem = output.stem if output is not None else "layers"
        write_layers(layers_dir, result.layers, result.image, name=stem, metadata=metadata)
        stats["layers_dir"] = str(layers_dir)
    stats["total_seconds"] = round(time.perf_counter() - started, 4)
    if stats_path is not None:
        write_json(stats_path, stats)


def render(
    scene_or_path: Scene | str | Path,
    output: Optional[Path | str] = None,
    *,
    renderer: str = "auto",
    model: Optional[str] = None,
    schedule: Optional[str] = None,
    steps: Optional[int] = None,
    seed: Optional[int] = None,
    paste_back: Optional[bool] = None,
    layers_dir: Optional[Path | str] = None,
    stats_path: Optional[Path | str] = None,
    root: Optional[Path | str] = None,
    device: Optional[str] = None,
    dtype: Optional[str] = None,
    cache_dir: Optional[Path | str] = None,
    progress: Optional[bool] = None,
    options: Optional[RenderOptions] = None,
    announce: Optional[Announce] = None,
) -> RenderResult:
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
    device ("auto", "cuda", "mps", "cpu"), dtype ("fp16", "bf16", "fp32"): SDXL settings, given to every
        renderer whose options have a field of that name; cache_dir: the inversion cache's folder.
        `options` (a RenderOptions, each renderer's own typed options in its `renderer_options`, e.g.
        dedit_sdxl.SDXLOptions) gives the rest; the named arguments that are given (not None) win over it.
    progress: show a progress bar on stderr for long renders (default: silent, or `options.progress`).
    announce: a callable that receives one line saying which renderer was chosen and why (default: none).

    Returns a RenderResult: `image` ((h, w, 3) uint8), `layers`, `stats`, `metadata`, `renderer`, `save()`.
    Raises SceneError for an invalid scene (its `problems` list each one), ArgumentError (from
    designedit.errors, as all of these) for a setting that cannot work (steps, seed, schedule, renderer name), DestinationError
    for an output that cannot be written (all three exit status 2 in the CLI), DeditError for anything else
    (no model, out of memory). Nothing is printed unless `progress` or `announce` asks.
    """
    # settings are checked before any work (ArgumentError, status 2), as the CLI's argparse types check them
    schedule = arguments.schedule(schedule) if schedule is not None else None
    steps = arguments.steps(steps) if steps is not None else None
    seed = arguments.seed(seed) if seed is not None else None
    # named arguments win over `options`, but only when given (None: keep the options' own value)
    options = replace(options) if options is not None else RenderOptions()
    if paste_back is not None:
        options.paste_back = paste_back
    if progress is not None:
        options.progress = progress
    if cache_dir is not None:
        options.cache_dir = Path(cache_dir)
    settings = {key: value for key, value in (("model", model), ("device", device), ("dtype", dtype)) if value is not None}
    if settings:  # a renderer's own options, by the names of their fields (SDXLOptions has all three)
        from designedit.rendering.registry import with_settings

        options = with_settings(options, **settings)
    scene = load_scene(scene_or_path, root=root)
    check_destinations(scene, output, layers_dir, stats_path)  # before a renderer (SDXL: torch) is loaded, as the CLI does
    session = RenderSession(renderer, options, announce=announce)
    return session.render(
        scene, output=output, schedule=schedule, steps=steps, seed=seed, layers_dir=layers_dir, stats_path=stats_path
    )


PROGRESS_DELAY_S = 1.0  # no progress shown for work that ends sooner (the preview)


class Progress:
    """The command line's progress on stderr, as a renderer's `progress` callback.

    `progress(done, total)` counts a whole render. A renderer that works in phases also calls
    `progress.phase(label, done, total)` when it has one, with each phase's own count (SDXL: "inverting 2
    pictures" over the steps, then "denoising" over the steps run, rather than one count to their sum);
    the phases are then shown instead of the whole. On a terminal each phase gets a bar; elsewhere (a log
    file, a pipe) a line at each tenth of a phase, the last at its end, so a log gets a dozen lines, not a
    redrawn bar. Nothing at all is shown of work that ends within `delay` seconds."""

    def __init__(self, desc: str, stream=None, delay: Optional[float] = None) -> None:
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.delay = PROGRESS_DELAY_S if delay is None else delay
        self.terminal = _is_terminal(self.stream)
        self.phased = False
        self.label: Optional[str] = None  # the phase shown now (None: the whole render)
        self.bar = None
        self.tenths = 0  # tenths of the current phase already said (lines only)
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.phased:
            self._show(None, done, total)

    def phase(self, label: str, done: int, total: int) -> None:
        self.phased = True
        self._show(label, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _show(self, label: Optional[str], done: int, total: int) -> None:
        title = f"{self.desc}: {label}" if label else self.desc
        if label != self.label:
            self.close()
            self.label, self.tenths = label, 0
        if self.terminal:
            if label is None and done == 0 and self.bar is None:
                return  # phases may follow at once: a bar of the whole would only flash
            self._draw(title, done, total)
        else:
            self._line(title, done, total)

    def _draw(self, title: str, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=title, unit="step", delay=self.delay, leave=False, file=self.stream)
        self.bar.total = total
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)  # update() honours `delay`; refresh() would not

    def _line(self, title: str, done: int, total: int) -> None:
        tenths = min(10, done * 10 // total) if total > 0 else 10
        if tenths <= self.tenths or time.monotonic() - self.started < self.delay:
            return
        self.tenths = tenths
        print(f"{title}: step {done} of {total}", file=self.stream, flush=True)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
