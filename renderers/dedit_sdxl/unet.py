"""The UNet call, as the interpreter and the inversion make it, and the policy that decides how it runs.

Decided once per model (`UNetRunner`): key-masking processors on every self-attention
(attention.install), fused q/k/v projections where they pay (CUDA), torch.compile when asked
(--compile), CUDA graphs by default on CUDA without offload (graphs.GraphedUNet), and with --offload at
most OFFLOAD_BATCH samples per call. What cannot be done (a failed compile or capture, a device without
CUDA graphs) is a note on the logger "dedit.sdxl.unet", said once; the UNet then runs uncompiled or eagerly.
"""

from __future__ import annotations

from typing import Optional

import torch

from designedit.errors import DeditError
from designedit.rendering.protocol import notes_logger

from . import attention, graphs
from .loading import LoadedModel
from .options import COMPILE_MODES, SDXLOptions

log = notes_logger("sdxl.unet")

# Samples per UNet call when the model is offloaded (--offload): keeps activations, and so the peak, small.
OFFLOAD_BATCH = 2

# --compile: which backend torch.compile uses (tests swap in one that records graphs)
COMPILE_BACKEND = "inductor"
COMPILED_MARK = "_dedit_compiled"  # set on a UNet this renderer compiled: the mode
RECOMPILE_LIMIT = 64  # graphs torch.compile may make per compiled function (PyTorch's default: 8)


def compile_mode(want: Optional[str]) -> Optional[str]:
    """The --compile mode asked for (None: off), refused in one sentence before a model is loaded."""
    if not want:
        return None
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


class UNetRunner:
    """Calls the model's UNet: `runner(x, t, embeds, masks)` is one batched noise prediction."""

    def __init__(self, model: LoadedModel, settings: SDXLOptions, progress: bool = False) -> None:
        self.model = model
        self.settings = settings
        prepared = attention.self_attention_count(model.pipe.unet) > 0  # by another renderer over this pipeline
        self.state: attention.KeyMaskState = attention.install(model.pipe.unet)
        self.fused = False  # self-attention q/k/v projections fused
        self.compiled: Optional[str] = None  # the --compile mode in force (None: the UNet runs as loaded)
        self.graphed: Optional[graphs.GraphedUNet] = None
        self._compile_failed = False
        self._dropped_capture_evals = 0  # spent by graphs given up after a failed capture
        self._timesteps: dict[int, torch.Tensor] = {}
        self._fuse_projections(prepared)
        self._setup_compile(progress)
        self.setup_graphs()

    # ------------------------------------------------------------ policy, decided once

    def _fuse_projections(self, prepared: bool) -> None:
        """Fused q/k/v projections where wanted (attention.fuse_self_attention). A UNet that another renderer
        `prepared` keeps what it has: fusing it now would free the weights that renderer's captured CUDA
        graphs read.

        `fuse_projections`: None (default) = on CUDA, where a batch of one or two gains from it; True = on
        any device; False = off. Never for an offloaded model (its moves would copy the shared weights).
        On the CPU the default keeps diffusers' own separate products, so renders there match its stock
        pipeline to the last bit."""
        unet = self.model.pipe.unet
        want = self.settings.fuse_projections
        if want is None:
            want = self.model.device.type == "cuda"
        if want and not prepared and not self.offloaded():
            attention.fuse_self_attention(unet)
        self.fused = attention.fused_count(unet) > 0

    def _setup_compile(self, progress: bool) -> None:
        """--compile: the UNet through torch.compile, after its processors and fused projections are in place.

        `compile`: None = off (the default: compiling costs time per new input shape); "blocks" = diffusers'
        regional compilation of the repeated transformer blocks (`compile_repeated_blocks`: one compiled
        block serves all of SDXL's 70); "unet" = the whole UNet as one graph, static shapes (the most
        fusion; minutes per shape on a GPU, bench/RESULTS.md). Both compile in place, on the pipeline's
        UNet, with full graphs (no silent breaks), and lazily: the first call of each input shape pays. The
        UNet remembers it: another renderer over the same pipeline keeps (and reports) what is there. A
        compile that fails is said once; the UNet then runs uncompiled."""
        unet = self.model.pipe.unet
        present = getattr(unet, COMPILED_MARK, None)
        want = compile_mode(self.settings.compile)
        if present is not None:  # another renderer compiled this UNet: recompiling would only redo it
            if want is not None and want != present:
                log.warning(f"dedit: this UNet is already compiled as --compile {present}; that is kept.")
            self.compiled = present
            return
        if want is None:
            return
        if self.offloaded():
            log.warning("dedit: --compile cannot trace a model that --offload moves during each call; the UNet runs uncompiled.")
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
            log.warning(f"dedit: --compile {want} is not possible for this UNet ({str(exc).strip()}); it runs uncompiled.")
            return
        setattr(unet, COMPILED_MARK, want)
        self.compiled = want
        if progress:
            log.info(f"dedit: --compile {want}: the first call of each picture size and batch compiles the UNet, which "
                     "takes a while (PyTorch keeps the kernels in its disk cache).")

    def setup_graphs(self, backend=None) -> None:
        """UNet calls through CUDA graphs: on by default on CUDA without offload (`cuda_graphs`: None = that,
        True = asked for, False = off); `backend` is for tests."""
        self.graphed = None
        want = self.settings.cuda_graphs
        device = self.model.device
        if backend is None:
            if want is False:
                return
            if device.type != "cuda":
                if want:
                    log.warning("dedit: --cuda-graphs needs a CUDA device; the UNet runs eagerly on " + device.type + ".")
                return
            if self.offloaded():
                if want:
                    log.warning("dedit: --cuda-graphs cannot hold a model that --offload moves during each call; the UNet runs eagerly.")
                return
            backend = graphs.CudaBackend(device)
        self.graphed = graphs.GraphedUNet(self.run, backend)

    def offloaded(self) -> bool:
        """--offload, or a pipeline its owner offloaded (accelerate's hook on the UNet)."""
        return self.settings.offload or hasattr(self.model.pipe.unet, "_hf_hook")

    # ------------------------------------------------------------ calls

    @property
    def capture_evals(self) -> int:
        """Evaluations spent warming up and capturing graphs so far (not part of any plan)."""
        return self._dropped_capture_evals + (self.graphed.capture_evals if self.graphed else 0)

    def add_timesteps(self, timesteps: list[int]) -> None:
        """Timesteps on the device, made with one copy: an int timestep costs the UNet a host-to-device
        copy per call, which waits for the device's queue."""
        missing = [t for t in timesteps if t not in self._timesteps]
        if missing:
            values = torch.tensor(missing, dtype=torch.int64, device=self.model.device)
            self._timesteps.update(zip(missing, values.unbind()))

    def __call__(self, x: torch.Tensor, t: int, embeds: dict[str, torch.Tensor], masks: Optional[torch.Tensor]):
        model = self.model
        x = x.to(model.dtype)
        masks = masks.to(model.device) if masks is not None else None
        args = (masks, embeds["cond"], embeds["pooled"], embeds["time_ids"])
        if self.graphed is not None:
            try:
                return self.graphed(x, t, *args)
            except graphs.CaptureFailed as exc:
                log.warning(f"dedit: CUDA graph capture failed ({exc.reason}); the UNet runs eagerly from here on.")
                self._dropped_capture_evals += self.graphed.capture_evals
                self.graphed = None
        t_in = self._timesteps.get(t)
        if t_in is None:  # a timestep no plan listed (trajectories()): an int would be a constant to torch.compile
            t_in = self._timesteps[t] = torch.tensor(t, dtype=torch.int64, device=model.device)
        if self.offloaded() and x.shape[0] > OFFLOAD_BATCH:
            # offloading is for small GPUs: the UNet's activations grow with the batch (the reference's
            # batch of 8 at 1024 px needs ~1.5 GiB beside the weights), so it sees at most OFFLOAD_BATCH
            # samples at a time; each sample's arithmetic is the same
            parts = [self.run(x[i : i + OFFLOAD_BATCH], t_in, None if masks is None else masks[i : i + OFFLOAD_BATCH], *args[1:])
                     for i in range(0, x.shape[0], OFFLOAD_BATCH)]
            return torch.cat(parts)
        return self.run(x, t_in, *args)

    def run(self, x: torch.Tensor, t, masks: Optional[torch.Tensor], cond: torch.Tensor,
            pooled: torch.Tensor, time_ids: torch.Tensor) -> torch.Tensor:
        """One UNet call on exactly these tensors (graphs capture this)."""
        unet = self.model.pipe.unet
        b = x.shape[0]
        self.state.set(masks, x.dtype)
        args = (x, t)
        kwargs = {"encoder_hidden_states": cond.expand(b, -1, -1), "return_dict": False,
                  "added_cond_kwargs": {"text_embeds": pooled.expand(b, -1), "time_ids": time_ids.expand(b, -1)}}
        try:
            if self.compiled is not None:
                try:
                    return unet(*args, **kwargs)[0]
                except _compile_failures() as exc:  # compiling failed, not the arithmetic
                    self._compile_fell_back(exc)
            if self._compile_failed:  # what was compiled in place stays so: PyTorch is told to ignore it
                with torch.compiler.set_stance("force_eager"):
                    return unet(*args, **kwargs)[0]
            return unet(*args, **kwargs)[0]
        finally:
            self.state.clear()

    def _compile_fell_back(self, exc: Exception) -> None:
        cause = getattr(exc, "inner_exception", None) or exc  # a backend's own error, where it raised one
        first = (str(cause).strip().splitlines() or [""])[0].rstrip(".")
        log.warning(f"dedit: torch.compile failed ({type(cause).__name__}{': ' + first if first else ''}); "
                    "the UNet runs uncompiled from here on.")
        self.compiled = None
        self._compile_failed = True
        if self.graphed is not None:  # shapes captured compiled are captured again, uncompiled
            self.graphed.graphs.clear()
