"""UNet calls replayed from CUDA graphs (on by default on CUDA): one capture per input shape.

Why: SDXL's UNet is about 3,500 PyTorch operations per call. At the fast
schedule's batch of 1 or 2 the host's per-operation dispatch, not the GPU's
arithmetic, sets the pace (measured on an H200: an eager call costs about
0.11 s from batch 1 to batch 4, bench/RESULTS.md), so fewer evaluations did
not turn into less wall time. A captured graph replays every kernel of a call
with one launch: 0.027 s instead of 0.107 s at batch 1 there, with output
latents equal to the eager ones (bench/gpu_graph_check.py).

How: the first call of a shape (batch, latent size, masked or not, prompt
length) runs the UNet eagerly a few times on a side stream (PyTorch's
recipe before a capture), then captures one call whose inputs are static
buffers. Every later call copies its inputs (latent, timestep, key masks,
prompt embeddings) into those buffers, replays, and clones the output. All
graphs share one memory pool; that is safe because each output is cloned
before another graph runs and no graph reads another's buffers.

Only the UNet is graphed (the VAE runs once or twice a render). Model CPU
offload moves weights during the call, which a graph cannot hold, so the
renderer never combines the two. If a capture fails, the renderer says so
once and goes on eagerly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch

from designedit.rendering.lru import LRU

# run(x, t, masks, cond, pooled, time_ids) -> eps: one UNet call on exactly these tensors
UNetRun = Callable[[torch.Tensor, torch.Tensor, Optional[torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

WARMUP_CALLS = 2  # eager calls on a side stream before a capture (lazy initialisation, kernel choice)
MAX_GRAPHS = 16  # shapes kept captured (watch mode over many canvases); the oldest is dropped first


class CaptureFailed(RuntimeError):
    """A shape could not be captured; `reason` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Captured:
    inputs: tuple  # the static buffers the graph reads: x, t, masks (or None), cond, pooled, time_ids
    output: torch.Tensor
    replay: Callable[[], None]


class CudaBackend:
    """PyTorch's CUDA graph API: warm-ups and captures on one side stream, into one shared memory pool."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.pool = torch.cuda.graph_pool_handle()
        self.stream = torch.cuda.Stream(device)  # the same stream for every capture shares the pool best

    def warm_up(self, fn: Callable[[], torch.Tensor], times: int) -> None:
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            for _ in range(times):
                fn()
        torch.cuda.current_stream(self.device).wait_stream(self.stream)

    def capture(self, fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, Callable[[], None]]:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool, stream=self.stream):
            output = fn()
        return output, graph.replay


class GraphedUNet:
    """Calls `run` through one captured graph per input shape; `backend` does the capturing."""

    def __init__(self, run: UNetRun, backend) -> None:
        self.run = run
        self.backend = backend
        self.graphs: LRU[tuple, _Captured] = LRU(MAX_GRAPHS)
        self.capture_evals = 0  # eager evaluations spent warming up and capturing (not part of any plan)

    def __call__(self, x: torch.Tensor, t: int, masks: Optional[torch.Tensor], cond: torch.Tensor,
                 pooled: torch.Tensor, time_ids: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.dtype, None if masks is None else tuple(masks.shape), tuple(cond.shape), cond.dtype)
        captured = self.graphs.get(key)
        if captured is None:
            captured = self.graphs[key] = self._capture(x, masks, cond, pooled, time_ids)
        sx, st, smasks, scond, spooled, stime = captured.inputs
        sx.copy_(x)
        st.fill_(int(t))  # a fill kernel with t as its argument: no host-to-device copy, no sync
        if smasks is not None:
            smasks.copy_(masks)
        # the prompt's embeddings change between scenes: copied every call (a few hundred KB)
        scond.copy_(cond)
        spooled.copy_(pooled)
        stime.copy_(time_ids)
        captured.replay()
        return captured.output.clone()

    def _capture(self, x, masks, cond, pooled, time_ids) -> _Captured:
        inputs = (
            x.clone(),
            torch.zeros((), dtype=torch.int64, device=x.device),
            None if masks is None else masks.clone(),
            cond.clone(),
            pooled.clone(),
            time_ids.clone(),
        )

        def call() -> torch.Tensor:
            return self.run(*inputs)

        try:
            self.backend.warm_up(call, WARMUP_CALLS)
            self.capture_evals += WARMUP_CALLS * x.shape[0]
            output, replay = self.backend.capture(call)
            self.capture_evals += x.shape[0]
        except Exception as exc:  # an operation capture refuses; the caller falls back to eager calls
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CaptureFailed(first.rstrip(".")) from exc
        return _Captured(inputs, output, replay)
