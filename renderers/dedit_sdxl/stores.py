"""What an SDXLRenderer remembers between renders: inversion trajectories and branch states.

Each is kept in a small in-memory LRU and, when its inputs allow (`PlanImage.cacheable`), in the
on-disk cache (designedit.rendering.cache), so a re-render in watch mode or a later process skips the
inversion, and a plan that differs only after its first fusion resumes there. The disk cache is an
optimisation: anything odd in it (missing, corrupt, of another shape) is a miss, never an error.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from designedit.plan import Plan
from designedit.rendering.cache import Cache, cache_key
from designedit.rendering.lru import LRU

from .interpreter import Snapshot
from .loading import LoadedModel

MEMORY_TRAJECTORIES = 16  # in-memory inversions kept (about 7 MB each at 1024 px)
MEMORY_SNAPSHOTS = 4
# Bumped whenever the inversion computes differently (cached trajectories of another arithmetic are misses).
# 2: the scheduler's float32 alphas (session 4).
INVERSION_ARITHMETIC = 2
BRANCHES = "branches:"  # the disk cache's key prefix of branch states


class TrajectoryStore:
    """Inversion trajectories, (T+1, C, h, w) float32, by a key of everything that decides them."""

    def __init__(self, cache: Optional[Cache]) -> None:
        self.cache = cache
        self.memory: LRU[str, torch.Tensor] = LRU(MEMORY_TRAJECTORIES)

    @staticmethod
    def key(plan: Plan, image, model: LoadedModel) -> str:
        return cache_key("inversion", INVERSION_ARITHMETIC, image.key, model.identity, plan.steps, plan.prompt,
                         plan.render.width, plan.render.height, str(model.dtype), plan.scheduler)

    def find(self, plan: Plan, model: LoadedModel) -> tuple[dict[str, torch.Tensor], list]:
        """(trajectories found in memory or on disk by image id, [(image, key)] still to invert)."""
        shape = (plan.steps + 1, 4, plan.latent.height, plan.latent.width)
        found: dict[str, torch.Tensor] = {}
        pending = []
        for image in plan.inverted_images():
            key = self.key(plan, image, model)
            traj = self.memory.get(key)
            if traj is None and image.cacheable:
                traj = self._load(key, shape)
            if traj is not None:
                found[image.id] = self.memory[key] = traj.to(model.device)
            else:
                pending.append((image, key))
        return found, pending

    def add(self, key: str, traj: torch.Tensor, cacheable: bool) -> torch.Tensor:
        self.memory[key] = traj
        if cacheable and self.cache is not None:
            try:
                self.cache.put_arrays(key, {"trajectory": traj.detach().float().cpu().numpy()})
            except Exception:  # noqa: BLE001 - an optimisation: a failed write is only a later miss
                pass
        return traj

    def _load(self, key: str, shape: tuple[int, ...]) -> Optional[torch.Tensor]:
        """A trajectory from disk, or None when missing, corrupt or of the wrong shape."""
        if self.cache is None:
            return None
        try:
            arrays = self.cache.get_arrays(key)
        except Exception:  # noqa: BLE001 - anything odd is a miss
            return None
        if not arrays or "trajectory" not in arrays:
            return None
        a = arrays["trajectory"]
        if a.shape != shape or a.dtype != np.float32 or not np.isfinite(a).all():
            return None
        return torch.from_numpy(np.array(a))


class SnapshotStore:
    """Interpreter states at a plan's first fusion step, by the key of the plan prefix that decides them."""

    def __init__(self, cache: Optional[Cache]) -> None:
        self.cache = cache
        self.memory: LRU[str, Snapshot] = LRU(MEMORY_SNAPSHOTS)

    def get(self, key: str) -> Optional[Snapshot]:
        snap = self.memory.get(key)
        if snap is not None or self.cache is None:
            return snap
        try:
            arrays = self.cache.get_arrays(BRANCHES + key)
        except Exception:  # noqa: BLE001 - anything odd is a miss
            arrays = None
        if not arrays:
            return None
        parts = {prefix: {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix + ":")}
                 for prefix in ("z", "d", "x")}
        return Snapshot(parts["z"], parts["d"], parts["x"])

    def put(self, key: str, snap: Snapshot) -> None:
        self.memory[key] = snap
        if self.cache is None:
            return
        arrays = {f"{prefix}:{k}": v.float().cpu().numpy()
                  for prefix, part in (("z", snap.latents), ("d", snap.deltas), ("x", snap.x0)) for k, v in part.items()}
        try:
            self.cache.put_arrays(BRANCHES + key, arrays)
        except Exception:  # noqa: BLE001 - an optimisation: a failed write is only a later miss
            pass
