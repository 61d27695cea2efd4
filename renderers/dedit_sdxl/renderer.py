"""SDXLRenderer: loads an SDXL model once and executes plans on it.

One instance keeps, across `render()` calls: the model and how its UNet runs (`unet.UNetRunner`), the
prompt's embeddings (`conditioning`), inversion trajectories and the interpreter's state at the first
fusion step (`stores`: in memory, and on disk through `designedit.rendering.cache`), so a move-only
re-render costs only fusion and harmonisation. `render()` reads as its steps; each job has its module.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from designedit.errors import DeditError
from designedit.imaging.blend import paste_back
from designedit.plan import Plan
from designedit.rendering.cache import Cache
from designedit.rendering.protocol import LazyLayers, MaskRequest, RenderOptions, RenderResult, notes_logger

from . import compose, inversion, loading, locate
from .conditioning import Conditioning, ddim_scheduler
from .interpreter import Interpreter, Snapshot, prefix_key, start_step
from .options import SDXLOptions, model_spec
from .stores import SnapshotStore, TrajectoryStore
from .ticks import Ticks
from .unet import UNetRunner, compile_mode
from .vae import VAE

log = notes_logger("sdxl.renderer")


class SDXLRenderer:
    name = "sdxl"

    def __init__(self, options: Optional[RenderOptions] = None) -> None:
        self.options = options or RenderOptions()
        self.settings = self.options.of(SDXLOptions)
        compile_mode(self.settings.compile)  # refused in one sentence before any loading
        self._model: Optional[loading.LoadedModel] = None
        self._unet: Optional[UNetRunner] = None
        self._vae: Optional[VAE] = None
        self._conditioning: Optional[Conditioning] = None
        self.last_latent: Optional[torch.Tensor] = None  # the output branch before decoding (tests, bench)
        self._sizes: Optional[tuple[int, int]] = None  # (VAE factor, UNet sample size) from configs
        self._sizes_read = False
        self._where: Optional[locate.ModelLocation] = None  # where the configs were read (before any loading)
        self._cache = Cache(self.options.cache_dir, self.options.cache_max_bytes) if self.settings.cache else None
        self._trajectories = TrajectoryStore(self._cache)
        self._snapshots = SnapshotStore(self._cache)
        self.last_mask_counts: Optional[dict[str, int]] = None  # attention maps derived and found by derive_masks

    @classmethod
    def from_pipeline(cls, pipe, options: Optional[RenderOptions] = None, identity: str = "in-memory",
                      device: Optional[torch.device] = None) -> "SDXLRenderer":
        """Wrap an SDXL pipeline built in this process (benchmarks of random-weight models); `identity` keys caches.

        `device` is where the UNet runs (give it when the pipeline uses CPU offload)."""
        self = cls(options)
        device = device or next(pipe.unet.parameters()).device
        self._attach(loading.LoadedModel(pipe, identity, device, pipe.unet.dtype, pipe.vae.dtype))
        return self

    def _attach(self, model: loading.LoadedModel) -> None:
        self._model = model
        self._unet = UNetRunner(model, self.settings, progress=self.options.progress)
        self._vae = VAE(model)
        self._conditioning = Conditioning(model)

    def forget(self) -> None:
        """Drop what this instance keeps in memory between renders (inversions, branch states); keep the model."""
        self._trajectories.memory.clear()
        self._snapshots.memory.clear()

    # ------------------------------------------------------------ interface

    @classmethod
    def available(cls, options: RenderOptions) -> tuple[bool, str]:
        return locate.available(options)

    @property
    def model(self) -> loading.LoadedModel:
        if self._model is None:
            if self.options.progress:  # the CLI: loading takes a while and no bar can measure it
                log.info(f"loading model {model_spec(self.settings) or ''} ...".replace("  ", " "))
            self._attach(loading.load_model(self.options))
        return self._model

    @property
    def unet(self) -> UNetRunner:
        """The UNet as this renderer calls it (loads the model)."""
        self.model
        return self._unet

    @property
    def vae(self) -> VAE:
        self.model
        return self._vae

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
        """(VAE factor, UNet sample size) from the model's diffusers configs (locate.config_sizes), so
        compiling needs no weights (a plan that changes nothing never loads the model); None: load it."""
        if not self._sizes_read:
            self._sizes_read = True
            spec = model_spec(self.settings)
            try:
                where = locate.locate(spec) if spec else None
            except DeditError:
                where = None  # loading the model says why, in its own words
            self._sizes = locate.config_sizes(where) if where is not None else None
            self._where = where if self._sizes is not None else None
        return self._sizes

    def render(self, plan: Plan, progress: Optional[Callable[[int, int], None]] = None) -> RenderResult:
        started = time.perf_counter()
        # 1. check inputs: the plan was compiled for this model's latent grid
        self._check(plan)
        # 2. a plan that changes nothing is its background picture: no model needed
        if plan.output_is_background:
            return self._source_only(plan, started)
        # 3. prepare: the model, the scheduler, the prompt's embeddings, the timesteps on the device
        model, unet = self.model, self.unet
        phases: dict[str, float] = {}
        scheduler = ddim_scheduler(model, plan)
        embeds = self._conditioning.embeddings(plan)
        unet.add_timesteps([s.timestep for s in plan.plan_steps])
        captures_before = unet.capture_evals
        stats = {"renderer": self.name, "model": model.identity.split("|")[0], "device": str(model.device),
                 "dtype": str(model.dtype).removeprefix("torch.")}
        warnings = [w for w in (self._ignored_config(), self._conditioning.prompt_too_long(plan.prompt)) if w is not None]
        if warnings:
            stats["warnings"] = warnings

        def predict(x: torch.Tensor, t: int, masks: Optional[torch.Tensor]) -> torch.Tensor:
            return unet(x, t, embeds, masks)

        with torch.inference_mode():
            # 4. where to start: a remembered branch state, when only what follows the first fusion changed
            key = prefix_key(plan, model.identity, str(model.dtype)) if self.settings.reuse_branches else None
            resume = self._snapshots.get(key) if key else None
            captured: dict[str, Snapshot] = {}
            # 5. invert the source pictures not remembered (what runs is known before anything runs: one
            #    progress total covers inversion and denoising)
            with self._timed(phases, "invert"):
                found, pending = self._trajectories.find(plan, model)
                start = start_step(plan, resume)
                ticks = Ticks(progress, len(pending) * plan.steps + plan.steps - start)
                if pending:
                    ticks.phase(f"inverting {len(pending)} picture{'s' if len(pending) > 1 else ''}", plan.steps)
                trajectories, inv = self._invert(plan, scheduler, predict, found, pending, ticks)
            # 6. denoise: the plan's steps and ops, remembering the state at the first fusion
            interp = Interpreter(plan, predict, scheduler, trajectories, model.device, tick=ticks)
            ticks.phase("denoising" if start == 0 else f"denoising from step {start} (a remembered branch state)",
                        plan.steps - start)
            with self._timed(phases, "denoise"):
                z = interp.run(resume, on_snapshot=lambda snap: captured.setdefault("s", snap))
            self.last_latent = z.detach().clone()
            if key and "s" in captured:
                self._snapshots.put(key, captured["s"])
            # 7. decode the output branch
            with self._timed(phases, "decode"):
                picture = self.vae.decode(z)
            # the decomposition's background: the removal branch's clean estimate at the fusion step
            background_latent = interp.fused_x0

        # 8. compose: the canvas size, and the source's pixels outside the edited region
        with self._timed(phases, "compose"):
            canvas = (plan.canvas.width, plan.canvas.height)
            picture = compose.resize(picture, canvas, plan.schedule)
            if self.options.paste_back and plan.edit_region in plan.masks:
                picture = paste_back(picture, compose.background(plan), plan.masks[plan.edit_region].data)

        def layers() -> dict[str, np.ndarray]:
            # built when first read (--layers, .ora): its background costs a VAE decode nobody may want
            if background_latent is None:
                # no fusion: the output is the removal branch itself; a fusion from the background
                # trajectory (nothing removed): the background is the source picture
                return compose.layers(plan, compose.background(plan) if compose.fuses_from_trajectory(plan) else picture)
            with torch.inference_mode():
                background = self.vae.decode(background_latent)
            return compose.layers(plan, compose.resize(background, canvas, plan.schedule))

        # 9. what it cost, and the result (its layers built when first read)
        stats.update(
            unet_evals=inv["evals"] + interp.stats.denoise_evals,
            inversion_evals=inv["evals"],
            denoise_evals=interp.stats.denoise_evals,
            unet_calls=inv["calls"] + interp.stats.unet_calls,
            cuda_graphs=unet.graphed is not None,
            fused_projections=unet.fused,
            compiled=unet.compiled,
            capture_evals=unet.capture_evals - captures_before,
            cache_hits=inv["hits"],
            cache_misses=inv["misses"],
            branch_reuse=interp.stats.resumed_at_step is not None,
            resumed_at_step=interp.stats.resumed_at_step,
            phase_seconds={k: round(v, 4) for k, v in phases.items()},
            seconds=round(time.perf_counter() - started, 4),
        )
        if self.last_mask_counts is not None:  # the attention maps this render's scene needed
            stats.update(attention_maps_derived=self.last_mask_counts["derived"], attention_maps_cached=self.last_mask_counts["cached"])
            self.last_mask_counts = None
        damaged = self._cache.take_discarded() if self._cache is not None else []
        if damaged:  # recomputed, so the picture is right; but a cache that keeps breaking is worth knowing of
            stats.setdefault("warnings", []).extend(damaged)
        return RenderResult(image=picture, layers=LazyLayers(layers), stats=stats)

    def derive_masks(self, requests: Sequence[MaskRequest], progress: Optional[Callable[[int, int], None]] = None) -> dict:
        """Each request's attention map (cross_attention.derive_map), from the cache when this model derived it
        before; kept there for the next render, `dedit masks` and the preview."""
        from diffusers import DDIMScheduler

        from designedit.plan.ddim import DDIM_SETTINGS, ddim_timesteps
        from designedit.rendering import attention_cache

        from . import cross_attention

        model = self.model
        maps: dict = {}
        counts = {"derived": 0, "cached": 0}
        for done, request in enumerate(requests):
            found = attention_cache.get(self._cache, request, model.identity) if self._cache is not None else None
            if found is not None:
                maps[request.key] = found[0]
                counts["cached"] += 1
                attention_cache.put(self._cache, request, model.identity, found[0], latest_only=True)  # the preview's
                continue
            tokens = cross_attention.word_tokens(model.pipe.tokenizer, request.prompt, request.word)
            scheduler = DDIMScheduler.from_config({**dict(model.pipe.scheduler.config), **DDIM_SETTINGS})
            scheduler.set_timesteps(request.steps)
            with torch.inference_mode():
                z0 = self.vae.encode(cross_attention.picture_pixels(request))
                embeds = self._conditioning.embeddings_for(request.prompt, *request.size)
                grid = cross_attention.derive_map(model.pipe.unet, z0, embeds, scheduler, ddim_timesteps(request.steps), tokens)
            maps[request.key] = grid
            counts["derived"] += 1
            if self._cache is not None:
                attention_cache.put(self._cache, request, model.identity, grid)
            if progress is not None:
                progress(done + 1, len(requests))
        self.last_mask_counts = counts
        return maps

    def _source_only(self, plan: Plan, started: float) -> RenderResult:
        """A plan that changes nothing: its output is the background picture, with or without
        paste-back (nothing went through the VAE). No text encoder, UNet or VAE call, and the model is not
        loaded for it when the plan could be compiled from its configs."""
        t0 = time.perf_counter()
        picture = compose.background(plan)
        self.last_latent = None
        if self._model is not None:
            model, device, dtype = self._model.identity.split("|")[0], self._model.device, self._model.dtype
        else:  # not loaded, and not needed (the configs of its folder or cached hub snapshot sufficed)
            device = loading.pick_device(self.settings.device)
            # named as a loaded model is (a folder's path, hub:ID@revision); else the spec as given
            model = self._where.label if self._where is not None else (model_spec(self.settings) or "none")
            dtype = loading.pick_dtype(self.settings.dtype, device)
        unet = self._unet
        stats = {"renderer": self.name, "model": model, "device": str(device), "dtype": str(dtype).removeprefix("torch."),
                 "model_loaded": self._model is not None, "unet_evals": 0, "inversion_evals": 0, "denoise_evals": 0,
                 "unet_calls": 0, "cuda_graphs": unet is not None and unet.graphed is not None,
                 "fused_projections": unet is not None and unet.fused, "compiled": unet.compiled if unet else None,
                 "capture_evals": 0, "cache_hits": 0,
                 "cache_misses": 0, "branch_reuse": False, "resumed_at_step": None,
                 "phase_seconds": {"compose": round(time.perf_counter() - t0, 4)},
                 "seconds": round(time.perf_counter() - started, 4)}
        if (warning := self._ignored_config()) is not None:
            stats["warnings"] = [warning]
        return RenderResult(image=picture, layers=LazyLayers(lambda: compose.layers(plan, picture)), stats=stats)

    def _ignored_config(self) -> Optional[str]:
        """A warning when --model-config was given for a model with its own configs (loading ignores it)."""
        spec = model_spec(self.settings)
        if not self.settings.model_config or not spec:
            return None
        try:
            where = self._where or locate.locate(spec)
        except DeditError:
            return None
        return loading.ignored_config_warning(self.options, where)

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
        """Every plan image's inversion trajectory, (T+1, C, h, w) float32, through the stores."""
        scheduler = ddim_scheduler(self.model, plan)
        embeds = self._conditioning.embeddings(plan)
        self.unet.add_timesteps([s.timestep for s in plan.plan_steps])
        with torch.inference_mode():
            found, _ = self._invert(plan, scheduler, lambda x, t, m: self.unet(x, t, embeds, m))
        return found

    # ------------------------------------------------------------ pieces

    def _check(self, plan: Plan) -> None:
        scale = self.latent_scale
        if plan.latent_scale != scale:
            raise DeditError(f"the plan was compiled for latent scale {plan.latent_scale} but this model's VAE has {scale}.")
        if (plan.latent.width * scale, plan.latent.height * scale) != (plan.render.width, plan.render.height):
            raise DeditError("the plan's latent size times its latent scale is not its render size.")

    def _invert(self, plan: Plan, scheduler, predict, found: Optional[dict] = None, pending: Optional[list] = None,
                tick: Optional[Callable[[int], None]] = None) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
        """Every plan image's trajectory: `found`/`pending` as `TrajectoryStore.find` gives them (looked up
        here when not given); the pending ones are inverted in one batch, `tick(n)` after each step of n images."""
        from designedit.plan.recipes import materialize

        if found is None or pending is None:
            found, pending = self._trajectories.find(plan, self.model)
        info = {"evals": 0, "calls": 0, "hits": len(found), "misses": len(pending)}
        if pending:
            z0 = torch.cat([self.vae.encode(materialize(image, plan.render)) for image, _ in pending])

            def counted(x: torch.Tensor, t: int) -> torch.Tensor:
                info["evals"] += x.shape[0]
                info["calls"] += 1
                eps = predict(x, t, None)
                if tick is not None:
                    tick(x.shape[0])
                return eps

            trajs = inversion.invert(counted, z0, scheduler, [s.timestep for s in plan.plan_steps])
            for i, (image, key) in enumerate(pending):
                found[image.id] = self._trajectories.add(key, trajs[:, i].contiguous(), image.cacheable)
        return found, info
