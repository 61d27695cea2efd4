"""SDXLRenderer: loads an SDXL model once and executes plans on it.

One instance keeps, across `render()` calls: the model, the prompt's
embeddings, inversion trajectories in memory (and on disk through
`designedit.rendering.cache`), and the interpreter's state at the first fusion step
(memo keyed by the plan prefix that determines it), so a move-only re-render
costs only fusion and harmonisation.
"""

from __future__ import annotations

import json
import sys
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, Optional

import cv2
import numpy as np
import torch
from PIL import Image

from designedit.imaging.blend import paste_back
from designedit.errors import DeditError
from designedit.imaging.geometry import nearest
from designedit.imaging.geometry import shift as shift_pixels
from designedit.plan import Plan
from designedit.rendering.protocol import LazyLayers, RenderOptions, RenderResult
from designedit.rendering.select import model_spec

from . import attention, graphs, inversion, loading
from .locate import ModelLocation, available, locate
from .interpreter import Interpreter, Snapshot, first_fuse, prefix_key, start_step

LAYER_PREFIX = "layer:"
MEMORY_TRAJECTORIES = 16  # in-memory inversions kept (about 7 MB each at 1024 px)
MEMORY_SNAPSHOTS = 4
TILING_PIXELS = 1536 * 1536  # decode larger renders tile by tile


# Samples per UNet call when the model is offloaded (--offload): keeps activations, and so the peak, small.
OFFLOAD_BATCH = 2

# --compile: what torch.compile compiles, and with which backend (tests swap in one that records graphs)
COMPILE_MODES = ("blocks", "unet")
COMPILE_BACKEND = "inductor"
COMPILED_MARK = "_dedit_compiled"  # set on a UNet this renderer compiled: the mode
RECOMPILE_LIMIT = 64  # graphs torch.compile may make per compiled function (PyTorch's default: 8)

# Bumped whenever the inversion computes differently (cached trajectories of another arithmetic are misses).
# 2: the scheduler's float32 alphas (session 4).
INVERSION_ARITHMETIC = 2


class SDXLRenderer:
    name = "sdxl"

    def __init__(self, options: Optional[RenderOptions] = None) -> None:
        self.options = options or RenderOptions()
        self._model: Optional[loading.LoadedModel] = None
        self._state: Optional[attention.KeyMaskState] = None
        self._embeds: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._trajectories: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()
        self.last_latent: Optional[torch.Tensor] = None  # the output branch before decoding (tests, bench)
        self._graphed: Optional[graphs.GraphedUNet] = None
        self._fused = False  # self-attention q/k/v projections fused
        self._compiled: Optional[str] = None  # the --compile mode in force (None: the UNet runs as loaded)
        self._compile_failed = False
        self._compile_wanted = _compile_mode(self.options.extra.get("compile"))  # checked before any loading
        self._dropped_capture_evals = 0  # spent by graphs given up after a failed capture
        self._sizes: Optional[tuple[int, int]] = None  # (VAE factor, UNet sample size) from configs
        self._sizes_read = False
        self._where: Optional[ModelLocation] = None  # where the configs were read (before any loading)
        self._timesteps: dict[int, torch.Tensor] = {}
        self._prompt_notes: dict[str, Optional[str]] = {}  # prompt -> its warning (None: it fits)
        self._cache = None
        if self.options.extra.get("cache", True):
            from designedit.rendering.cache import Cache

            self._cache = Cache(self.options.cache_dir, self.options.extra.get("cache_max_bytes"))

    @classmethod
    def from_pipeline(cls, pipe, options: Optional[RenderOptions] = None, identity: str = "in-memory",
                      device: Optional[torch.device] = None) -> "SDXLRenderer":
        """Wrap an SDXL pipeline built in this process (benchmarks of random-weight models); `identity` keys caches.

        `device` is where the UNet runs (give it when the pipeline uses CPU offload)."""
        self = cls(options)
        device = device or next(pipe.unet.parameters()).device
        dtype = pipe.unet.dtype
        vae_dtype = pipe.vae.dtype
        self._model = loading.LoadedModel(pipe, identity, device, dtype, vae_dtype)
        self._prepare_unet()
        self._setup_compile()
        self._setup_graphs()
        return self

    def forget(self) -> None:
        """Drop what this instance keeps in memory between renders (inversions, branch states); keep the model."""
        self._trajectories.clear()
        self._snapshots.clear()

    # ------------------------------------------------------------ interface

    @classmethod
    def available(cls, options: RenderOptions) -> tuple[bool, str]:
        return available(options)

    @property
    def model(self) -> loading.LoadedModel:
        if self._model is None:
            if self.options.progress:  # the CLI: loading takes a while and no bar can measure it
                _say(f"loading model {model_spec(self.options) or ''} ...".replace("  ", " "))
            self._model = loading.load_model(self.options)
            self._prepare_unet()
            self._setup_compile()
            self._setup_graphs()
        return self._model

    def _prepare_unet(self) -> None:
        """Key-masking processors on every self-attention, and fused q/k/v projections where wanted
        (attention.fuse_self_attention). A UNet that another renderer prepared keeps what it has: fusing
        it now would free the weights that renderer's captured CUDA graphs read.

        `fuse_projections`: None (default) = on CUDA, where a batch of one or two gains from it; True = on
        any device; False = off. Never for an offloaded model (its moves would copy the shared weights).
        On the CPU the default keeps diffusers' own separate products, so renders there match its stock
        pipeline to the last bit."""
        unet = self._model.pipe.unet
        prepared = attention.self_attention_count(unet) > 0  # another renderer prepared it
        self._state = attention.install(unet)
        want = self.options.extra.get("fuse_projections")
        if want is None:
            want = self._model.device.type == "cuda"
        if want and not prepared and not self._offloaded():
            attention.fuse_self_attention(unet)
        self._fused = attention.fused_count(unet) > 0

    def _setup_compile(self) -> None:
        """--compile: the UNet through torch.compile, after its processors and fused projections are in place.

        `compile` (RenderOptions.extra): None/False = off (the default: compiling costs time per new input
        shape); "blocks" = diffusers' regional compilation of the repeated transformer blocks
        (`compile_repeated_blocks`: one compiled block serves all of SDXL's 70); "unet" = the whole UNet as
        one graph, static shapes (the most fusion; minutes per shape on a GPU, bench/RESULTS.md). Both
        compile in place, on the pipeline's UNet, with full graphs (no silent breaks), and lazily: the first
        call of each input shape pays. The UNet remembers it: another renderer over the same pipeline keeps
        (and reports) what is there. A compile that fails is said once; the UNet then runs uncompiled."""
        unet = self._model.pipe.unet
        present = getattr(unet, COMPILED_MARK, None)
        want = self._compile_wanted
        if present is not None:  # another renderer compiled this UNet: recompiling would only redo it
            if want is not None and want != present:
                _say(f"dedit: this UNet is already compiled as --compile {present}; that is kept.")
            self._compiled = present
            return
        if want is None:
            return
        if self._offloaded():
            _say("dedit: --compile cannot trace a model that --offload moves during each call; the UNet runs uncompiled.")
            return
        # one compiled graph per input shape, mask state and attention width: the default limit of 8 is
        # reached by SDXL's two attention widths over a few canvases. PyTorch's setting is the process's:
        # it stays raised (never lowered) for anything else the process compiles.
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
        options = {"backend": COMPILE_BACKEND, "fullgraph": True}
        try:
            if want == "unet":
                unet.compile(dynamic=False, **options)  # static shapes: the measured kernels (one graph per shape)
            else:
                unet.compile_repeated_blocks(**options)  # shapes turn dynamic on the first change: few recompiles
        except ValueError as exc:  # diffusers: this UNet class names no repeated blocks
            _say(f"dedit: --compile {want} is not possible for this UNet ({str(exc).strip()}); it runs uncompiled.")
            return
        setattr(unet, COMPILED_MARK, want)
        self._compiled = want
        if self.options.progress:
            _say(f"dedit: --compile {want}: the first call of each picture size and batch compiles the UNet, which "
                 "takes a while (PyTorch keeps the kernels in its disk cache).")

    def _setup_graphs(self, backend=None) -> None:
        """UNet calls through CUDA graphs: on by default on CUDA without offload (`cuda_graphs`: None = that,
        True = asked for, False = off); `backend` is for tests."""
        self._graphed = None
        want = self.options.extra.get("cuda_graphs")
        model = self._model
        if backend is None:
            if want is False:
                return
            if model.device.type != "cuda":
                if want:
                    _say("dedit: --cuda-graphs needs a CUDA device; the UNet runs eagerly on " + model.device.type + ".")
                return
            if self._offloaded():
                if want:
                    _say("dedit: --cuda-graphs cannot hold a model that --offload moves during each call; the UNet runs eagerly.")
                return
            backend = graphs.CudaBackend(model.device)
        self._graphed = graphs.GraphedUNet(self._run_unet, backend)

    @property
    def latent_scale(self) -> int:
        if self._model is None and self._config_sizes() is not None:
            return self._config_sizes()[0]
        return int(self.model.pipe.vae_scale_factor)

    @property
    def native_size(self) -> int:
        """The side the UNet was configured for, in pixels (SDXL: 128 latent cells x 8 = 1024)."""
        if self._model is None and self._config_sizes() is not None:
            return self._config_sizes()[1] * self.latent_scale
        return int(self.model.pipe.unet.config.sample_size) * self.latent_scale

    def _config_sizes(self) -> Optional[tuple[int, int]]:
        """(VAE factor, UNet sample size) from the model's diffusers configs (a folder, or a hub id's snapshot
        in the local cache), as the pipeline derives them, so compiling needs no weights (a plan that changes
        nothing never loads the model); None: load it (a single-file checkpoint, unreadable configs)."""
        if not self._sizes_read:
            self._sizes_read = True
            spec = model_spec(self.options)
            try:
                where = locate(spec) if spec else None
            except DeditError:
                where = None  # loading the model says why, in its own words
            if where is not None and where.kind in ("folder", "hub"):
                try:
                    vae = json.loads((where.path / "vae" / "config.json").read_text())
                    unet = json.loads((where.path / "unet" / "config.json").read_text())
                    if isinstance(unet["sample_size"], int):
                        self._sizes = (2 ** (len(vae["block_out_channels"]) - 1), unet["sample_size"])
                        self._where = where
                except (OSError, ValueError, KeyError, TypeError):
                    pass
        return self._sizes

    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult:
        started = time.perf_counter()
        self._check(plan)
        if plan.output_is_background:
            return self._source_only(plan, started)
        model = self.model
        phases: dict[str, float] = {}
        scheduler = self._scheduler(plan)
        embeds = self._embeddings(plan)
        self._timestep_tensors(plan)
        captures_before = self._capture_evals()
        stats = {"renderer": self.name, "model": model.identity.split("|")[0], "device": str(model.device),
                 "dtype": str(model.dtype).removeprefix("torch.")}
        warnings = [w for w in (self._ignored_config(), self._prompt_too_long(plan.prompt)) if w is not None]
        if warnings:
            stats["warnings"] = warnings

        def predict(x: torch.Tensor, t: int, masks: Optional[torch.Tensor]) -> torch.Tensor:
            return self._unet(x, t, embeds, masks)

        with torch.inference_mode():
            reuse = self.options.extra.get("reuse_branches", True)
            key = prefix_key(plan, model.identity, str(model.dtype)) if reuse else None
            resume = self._snapshot(key) if key else None
            captured: dict[str, Snapshot] = {}
            with self._timed(phases, "invert"):
                # what runs is known before anything runs: one progress total for inversion and denoising
                found, pending = self._cached_trajectories(plan)
                start = start_step(plan, resume)
                ticks = _Ticks(progress, len(pending) * plan.steps + plan.steps - start)
                if pending:
                    ticks.phase(f"inverting {len(pending)} picture{'s' if len(pending) > 1 else ''}", plan.steps)
                trajectories, inv = self._invert(plan, scheduler, predict, found, pending, ticks)
            interp = Interpreter(plan, predict, scheduler, trajectories, model.device, tick=ticks)
            ticks.phase("denoising" if start == 0 else f"denoising from step {start} (a remembered branch state)",
                        plan.steps - start)
            with self._timed(phases, "denoise"):
                z = interp.run(resume, on_snapshot=lambda snap: captured.setdefault("s", snap))
            self.last_latent = z.detach().clone()
            if key and "s" in captured:
                self._remember(key, captured["s"])
            with self._timed(phases, "decode"):
                picture = self._decode(z)
            # the decomposition's background: the removal branch's clean estimate at the fusion step
            background_latent = interp.fused_x0

        with self._timed(phases, "compose"):
            canvas = (plan.canvas.width, plan.canvas.height)
            picture = _resize(picture, canvas, plan.schedule)
            if self.options.paste_back and plan.edit_region in plan.masks:
                picture = paste_back(picture, _background(plan), plan.masks[plan.edit_region].data)

        def layers() -> dict[str, np.ndarray]:
            # built when first read (--layers, .ora): its background costs a VAE decode nobody may want
            if background_latent is None:
                # no fusion: the output is the removal branch itself; a fusion from the background
                # trajectory (nothing removed): the background is the source picture
                return _layers(plan, _background(plan) if _fuses_from_trajectory(plan) else picture)
            with torch.inference_mode():
                background = self._decode(background_latent)
            return _layers(plan, _resize(background, canvas, plan.schedule))

        stats.update(
            unet_evals=inv["evals"] + interp.stats.denoise_evals,
            inversion_evals=inv["evals"],
            denoise_evals=interp.stats.denoise_evals,
            unet_calls=inv["calls"] + interp.stats.unet_calls,
            cuda_graphs=self._graphed is not None,
            fused_projections=self._fused,
            compiled=self._compiled,
            capture_evals=self._capture_evals() - captures_before,
            cache_hits=inv["hits"],
            cache_misses=inv["misses"],
            branch_reuse=interp.stats.resumed_at_step is not None,
            resumed_at_step=interp.stats.resumed_at_step,
            phase_seconds={k: round(v, 4) for k, v in phases.items()},
            seconds=round(time.perf_counter() - started, 4),
        )
        damaged = self._cache.take_discarded() if self._cache is not None else []
        if damaged:  # recomputed, so the picture is right; but a cache that keeps breaking is worth knowing of
            stats.setdefault("warnings", []).extend(damaged)
        return RenderResult(image=picture, layers=LazyLayers(layers), stats=stats)

    def _source_only(self, plan: Plan, started: float) -> RenderResult:
        """A plan that changes nothing: its output is the background picture, with or without
        paste-back (nothing went through the VAE). No text encoder, UNet or VAE call, and the model is not
        loaded for it when the plan could be compiled from its configs."""
        t0 = time.perf_counter()
        picture = _background(plan)
        self.last_latent = None
        if self._model is not None:
            model, device, dtype = self._model.identity.split("|")[0], self._model.device, self._model.dtype
        else:  # not loaded, and not needed (the configs of its folder or cached hub snapshot sufficed)
            device = loading.pick_device(self.options.device)
            # named as a loaded model is (a folder's path, hub:ID@revision); else the spec as given
            model = self._where.label if self._where is not None else (model_spec(self.options) or "none")
            dtype = loading.pick_dtype(self.options.dtype, device)
        stats = {"renderer": self.name, "model": model, "device": str(device), "dtype": str(dtype).removeprefix("torch."),
                 "model_loaded": self._model is not None, "unet_evals": 0, "inversion_evals": 0, "denoise_evals": 0,
                 "unet_calls": 0, "cuda_graphs": self._graphed is not None, "fused_projections": self._fused, "compiled": self._compiled,
                 "capture_evals": 0, "cache_hits": 0,
                 "cache_misses": 0, "branch_reuse": False, "resumed_at_step": None,
                 "phase_seconds": {"compose": round(time.perf_counter() - t0, 4)},
                 "seconds": round(time.perf_counter() - started, 4)}
        if (warning := self._ignored_config()) is not None:
            stats["warnings"] = [warning]
        return RenderResult(image=picture, layers=LazyLayers(lambda: _layers(plan, picture)), stats=stats)

    def _ignored_config(self) -> Optional[str]:
        """A warning when --model-config was given for a model with its own configs (loading ignores it)."""
        spec = model_spec(self.options)
        if not self.options.extra.get("model_config") or not spec:
            return None
        try:
            where = self._where or locate(spec)
        except DeditError:
            return None
        return loading.ignored_config_warning(self.options, where)

    def _capture_evals(self) -> int:
        return self._dropped_capture_evals + (self._graphed.capture_evals if self._graphed else 0)

    @contextmanager
    def _timed(self, phases: dict[str, float], phase: str):
        """Adds one phase's wall time to `phases`, the device's queue drained at both ends (stats only)."""
        self._sync()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - t0

    def _sync(self) -> None:
        if self.model.device.type == "cuda":
            torch.cuda.synchronize(self.model.device)

    def trajectories(self, plan: Plan) -> dict[str, torch.Tensor]:
        """Every plan image's inversion trajectory, (T+1, C, h, w) float32, through the caches."""
        scheduler = self._scheduler(plan)
        embeds = self._embeddings(plan)
        self._timestep_tensors(plan)
        with torch.inference_mode():
            found, _ = self._invert(plan, scheduler, lambda x, t, m: self._unet(x, t, embeds, m))
        return found

    # ------------------------------------------------------------ pieces

    def _check(self, plan: Plan) -> None:
        scale = self.latent_scale
        if plan.latent_scale != scale:
            raise DeditError(f"the plan was compiled for latent scale {plan.latent_scale} but this model's VAE has {scale}.")
        if (plan.latent.width * scale, plan.latent.height * scale) != (plan.render.width, plan.render.height):
            raise DeditError("the plan's latent size times its latent scale is not its render size.")

    def _scheduler(self, plan: Plan):
        from diffusers import DDIMScheduler

        base = dict(self.model.pipe.scheduler.config)
        scheduler = DDIMScheduler.from_config({**base, **plan.scheduler})
        scheduler.set_timesteps(plan.steps)
        got = [int(t) for t in scheduler.timesteps]
        want = [s.timestep for s in plan.plan_steps]
        if got[: len(want)] != want or len(want) != plan.steps:
            raise DeditError(f"the plan's timesteps ({want[:3]}...) are not what the DDIM scheduler gives ({got[:3]}...).")
        return scheduler

    def _embeddings(self, plan: Plan) -> dict[str, torch.Tensor]:
        model = self.model
        if plan.prompt not in self._embeds:
            with torch.inference_mode():
                cond, _, pooled, _ = model.pipe.encode_prompt(
                    plan.prompt, device=model.device, num_images_per_prompt=1, do_classifier_free_guidance=False
                )
            self._embeds[plan.prompt] = (cond.to(model.dtype), pooled.to(model.dtype))
        cond, pooled = self._embeds[plan.prompt]
        h, w = plan.render.height, plan.render.width
        # SDXL micro-conditioning: original size, crop top-left, target size
        time_ids = torch.tensor([[h, w, 0, 0, h, w]], dtype=model.dtype, device=model.device)
        return {"cond": cond, "pooled": pooled, "time_ids": time_ids}

    def _prompt_too_long(self, prompt: str) -> Optional[str]:
        """A sentence when the text encoders cut the prompt short (CLIP reads model_max_length tokens, its
        start and end markers included), else None; once per prompt, like its embeddings."""
        if prompt not in self._prompt_notes:
            tokenizer = self.model.pipe.tokenizer
            limit = int(tokenizer.model_max_length)
            n = len(tokenizer(prompt, truncation=False, verbose=False).input_ids)
            self._prompt_notes[prompt] = None if n <= limit else (
                f"the prompt is {n - 2} tokens long; the text encoders read only the first {limit - 2}, the rest is ignored")
        return self._prompt_notes[prompt]

    def _timestep_tensors(self, plan: Plan) -> None:
        """The plan's timesteps on the device, made with one copy: an int timestep costs the UNet a
        host-to-device copy per call, which waits for the device's queue."""
        missing = [s.timestep for s in plan.plan_steps if s.timestep not in self._timesteps]
        if missing:
            values = torch.tensor(missing, dtype=torch.int64, device=self.model.device)
            self._timesteps.update(zip(missing, values.unbind()))

    def _unet(self, x: torch.Tensor, t: int, embeds: dict[str, torch.Tensor], masks: Optional[torch.Tensor]):
        model = self.model
        x = x.to(model.dtype)
        masks = masks.to(model.device) if masks is not None else None
        args = (masks, embeds["cond"], embeds["pooled"], embeds["time_ids"])
        if self._graphed is not None:
            try:
                return self._graphed(x, t, *args)
            except graphs.CaptureFailed as exc:
                _say(f"dedit: CUDA graph capture failed ({exc.reason}); the UNet runs eagerly from here on.")
                self._dropped_capture_evals += self._graphed.capture_evals
                self._graphed = None
        t_in = self._timesteps.get(t)
        if t_in is None:  # a timestep no plan listed (trajectories()): an int would be a constant to torch.compile
            t_in = self._timesteps[t] = torch.tensor(t, dtype=torch.int64, device=model.device)
        if self._offloaded() and x.shape[0] > OFFLOAD_BATCH:
            # offloading is for small GPUs: the UNet's activations grow with the batch (the reference's
            # batch of 8 at 1024 px needs ~1.5 GiB beside the weights), so it sees at most OFFLOAD_BATCH
            # samples at a time; each sample's arithmetic is the same
            parts = [self._run_unet(x[i : i + OFFLOAD_BATCH], t_in,
                                    None if masks is None else masks[i : i + OFFLOAD_BATCH], *args[1:])
                     for i in range(0, x.shape[0], OFFLOAD_BATCH)]
            return torch.cat(parts)
        return self._run_unet(x, t_in, *args)

    def _offloaded(self) -> bool:
        """--offload, or a pipeline its owner offloaded (accelerate's hook on the UNet)."""
        return self.options.offload or hasattr(self._model.pipe.unet, "_hf_hook")

    def _run_unet(self, x: torch.Tensor, t, masks: Optional[torch.Tensor], cond: torch.Tensor,
                  pooled: torch.Tensor, time_ids: torch.Tensor) -> torch.Tensor:
        """One UNet call on exactly these tensors (graphs capture this)."""
        b = x.shape[0]
        self._state.set(masks, x.dtype)
        args = (x, t)
        kwargs = {"encoder_hidden_states": cond.expand(b, -1, -1), "return_dict": False,
                  "added_cond_kwargs": {"text_embeds": pooled.expand(b, -1), "time_ids": time_ids.expand(b, -1)}}
        try:
            if self._compiled is not None:
                try:
                    return self.model.pipe.unet(*args, **kwargs)[0]
                except _compile_failures() as exc:  # compiling failed, not the arithmetic
                    cause = getattr(exc, "inner_exception", None) or exc  # a backend's own error, where it raised one
                    first = (str(cause).strip().splitlines() or [""])[0].rstrip(".")
                    _say(f"dedit: torch.compile failed ({type(cause).__name__}{': ' + first if first else ''}); "
                         "the UNet runs uncompiled from here on.")
                    self._compiled = None
                    self._compile_failed = True
                    if self._graphed is not None:  # shapes captured compiled are captured again, uncompiled
                        self._graphed.graphs.clear()
            if self._compile_failed:  # what was compiled in place stays so: PyTorch is told to ignore it
                with torch.compiler.set_stance("force_eager"):
                    return self.model.pipe.unet(*args, **kwargs)[0]
            return self.model.pipe.unet(*args, **kwargs)[0]
        finally:
            self._state.clear()

    def _inversion_key(self, plan: Plan, image) -> str:
        from designedit.rendering.cache import cache_key

        return cache_key("inversion", INVERSION_ARITHMETIC, image.key, self.model.identity, plan.steps, plan.prompt,
                         plan.render.width, plan.render.height, str(self.model.dtype), plan.scheduler)

    def _cached_trajectories(self, plan: Plan) -> tuple[dict[str, torch.Tensor], list]:
        """(trajectories found in memory or the cache by image id, [(image, cache key)] still to invert)."""
        model = self.model
        shape = (plan.steps + 1, 4, plan.latent.height, plan.latent.width)
        found: dict[str, torch.Tensor] = {}
        pending = []
        for image in plan.inverted_images():
            key = self._inversion_key(plan, image)
            traj = self._trajectories.get(key)
            if traj is None and image.cacheable:
                traj = inversion.load_cached(self._cache, key, shape)
            if traj is not None:
                found[image.id] = self._keep_trajectory(key, traj.to(model.device))
            else:
                pending.append((image, key))
        return found, pending

    def _invert(self, plan: Plan, scheduler, predict, found: Optional[dict] = None, pending: Optional[list] = None,
                tick: Optional[Callable[[int], None]] = None) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
        """Every plan image's trajectory: `found`/`pending` as `_cached_trajectories` gives them (looked up
        here when not given); the pending ones are inverted in one batch, `tick(n)` after each step of n images."""
        from designedit.plan.recipes import materialize

        if found is None or pending is None:
            found, pending = self._cached_trajectories(plan)
        info = {"evals": 0, "calls": 0, "hits": len(found), "misses": len(pending)}
        if pending:
            z0 = torch.cat([self._encode(materialize(image, plan.render)) for image, _ in pending])

            def counted(x: torch.Tensor, t: int) -> torch.Tensor:
                info["evals"] += x.shape[0]
                info["calls"] += 1
                eps = predict(x, t, None)
                if tick is not None:
                    tick(x.shape[0])
                return eps

            trajs = inversion.invert(counted, z0, scheduler, [s.timestep for s in plan.plan_steps])
            for i, (image, key) in enumerate(pending):
                traj = trajs[:, i].contiguous()
                found[image.id] = self._keep_trajectory(key, traj)
                if image.cacheable:
                    inversion.store(self._cache, key, traj)
        return found, info

    def _keep_trajectory(self, key: str, traj: torch.Tensor) -> torch.Tensor:
        self._trajectories[key] = traj
        self._trajectories.move_to_end(key)
        while len(self._trajectories) > MEMORY_TRAJECTORIES:
            self._trajectories.popitem(last=False)
        return traj

    def _snapshot(self, key: str) -> Optional[Snapshot]:
        if key in self._snapshots:
            self._snapshots.move_to_end(key)
            return self._snapshots[key]
        if self._cache is None:
            return None
        try:
            arrays = self._cache.get_arrays("branches:" + key)
        except Exception:
            arrays = None
        if not arrays:
            return None
        latents = {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("z:")}
        deltas = {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("d:")}
        x0 = {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("x:")}
        return Snapshot(latents, deltas, x0)

    def _remember(self, key: str, snap: Snapshot) -> None:
        self._snapshots[key] = snap
        while len(self._snapshots) > MEMORY_SNAPSHOTS:
            self._snapshots.popitem(last=False)
        if self._cache is not None:
            arrays = {f"z:{k}": v.float().cpu().numpy() for k, v in snap.latents.items()}
            arrays.update({f"d:{k}": v.float().cpu().numpy() for k, v in snap.deltas.items()})
            arrays.update({f"x:{k}": v.float().cpu().numpy() for k, v in snap.x0.items()})
            try:
                self._cache.put_arrays("branches:" + key, arrays)
            except Exception:
                pass

    def _encode(self, pixels: np.ndarray) -> torch.Tensor:
        model = self.model
        vae = model.pipe.vae
        x = torch.from_numpy(np.array(pixels, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        x = x.to(model.device, model.vae_dtype)
        return (vae.encode(x).latent_dist.mean * vae.config.scaling_factor).float()

    def _decode(self, z: torch.Tensor) -> np.ndarray:
        model = self.model
        vae = model.pipe.vae
        h, w = z.shape[-2] * self.latent_scale, z.shape[-1] * self.latent_scale
        if h * w > TILING_PIXELS:
            vae.enable_tiling()
        else:
            vae.disable_tiling()
        x = vae.decode((z / vae.config.scaling_factor).to(model.device, model.vae_dtype), return_dict=False)[0]
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x[0].permute(1, 2, 0).cpu().numpy()


# ------------------------------------------------------------------ pixels


def _compile_mode(want) -> Optional[str]:
    """The --compile mode asked for (None: off), refused in one sentence before a model is loaded."""
    if not want:
        return None
    if want is True:
        want = "blocks"
    if want not in COMPILE_MODES:
        raise DeditError(f"compile must be one of {', '.join(COMPILE_MODES)}, not {want!r}.")
    if not hasattr(torch.compiler, "set_stance"):
        raise DeditError(f"--compile needs torch 2.6 or later (this is torch {torch.__version__}).")
    from diffusers import ModelMixin

    if want == "blocks" and not hasattr(ModelMixin, "compile_repeated_blocks"):
        import diffusers

        raise DeditError(f"--compile blocks needs a diffusers with regional compilation (this is {diffusers.__version__}); "
                         "--compile unet works with it.")
    return want


def _compile_failures() -> tuple:
    """What torch.compile raises when it cannot compile (not when the computation itself fails)."""
    exc = torch._dynamo.exc
    return tuple(c for c in (exc.TorchDynamoException, getattr(exc, "FailOnRecompileLimitHit", None)) if c is not None)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Ticks:
    """One render's progress as `progress(done, total)`: `total` fixed up front (images inverted x steps,
    plus the plan steps denoising runs), `done` counted up as each inversion step (per image) and each plan
    step ends. Told (0, total) at once so a bar covers the first, slow step too. A callback that has a
    `phase(label, done, total)` method (designedit.rendering.session.Progress) is also told each phase with its own
    count, one per tick: inversion counts its steps (all pictures at once), denoising the plan steps it runs."""

    def __init__(self, progress: Optional[Callable[[int, int], None]], total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.label, self.phase_total, self.phase_done = "", 0, 0
        if progress is not None:
            progress(0, total)

    def phase(self, label: str, total: int) -> None:
        self.label, self.phase_total, self.phase_done = label, total, 0
        self._tell_phase()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self.phase_done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
        self._tell_phase()

    def _tell_phase(self) -> None:
        tell = getattr(self.progress, "phase", None)
        if tell is not None and self.label:
            tell(self.label, self.phase_done, self.phase_total)


def _fuses_from_trajectory(plan: Plan) -> bool:
    """Whether the plan's fusion starts from an inversion trajectory (nothing removed: no L0 is evaluated)."""
    at = first_fuse(plan)
    return at is not None and plan.plan_steps[at[0]].ops[at[1]].source.inversion is not None


def _resize(picture: np.ndarray, size: tuple[int, int], schedule: str) -> np.ndarray:
    """The decoded picture at the canvas size: for the reference as the authors' code does it (OpenCV's
    bilinear, which does not antialias), else Pillow's bilinear, which antialiases when it shrinks."""
    if (picture.shape[1], picture.shape[0]) == size:
        return picture
    if schedule == "reference":
        return cv2.resize(picture, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(Image.fromarray(picture).resize(size, Image.BILINEAR), dtype=np.uint8)


def _background(plan: Plan) -> np.ndarray:
    from designedit.plan.recipes import materialize

    return materialize(plan.image(plan.background), plan.canvas)[..., :3]


def _layers(plan: Plan, background: np.ndarray) -> dict[str, np.ndarray]:
    """The decomposition: the inpainted background and each moved layer with its mask as alpha."""
    from designedit.plan.recipes import materialize

    h, w = background.shape[:2]
    out = {"background": np.dstack([background, np.full((h, w), 255, np.uint8)])}
    for layer in plan.layers:
        if layer.mask_canvas not in plan.masks:
            continue
        image = materialize(plan.image(layer.image), plan.canvas)[..., :3]
        dx, dy = (nearest(v) for v in layer.applied_px)  # as the compiler placed edit@canvas
        rgba = np.dstack([image, plan.masks[layer.mask_canvas].data.astype(np.uint8)])
        out[LAYER_PREFIX + layer.id] = shift_pixels(rgba, dx, dy)
    return out
