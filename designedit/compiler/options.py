"""The settings a plan is compiled with, and the one place their precedence is decided.

A setting given to `compile_scene` (by the CLI's flags, the API's arguments or `designedit.render`) wins;
else the scene's `<render>`; else the default. Callers pass None for what they were not given and never
look at the scene's `<render>` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Optional, TypeVar

from designedit.checks import arguments
from designedit.errors import DeditError
from designedit.model.scene import Scene

Schedule = Literal["fast", "reference"]
T = TypeVar("T")

DEFAULT_SCHEDULE: Schedule = "fast"
DEFAULT_STEPS = 50
DEFAULT_SEED = 0
DEFAULT_GUIDANCE = 7.5


@dataclass(frozen=True)
class Options:
    schedule: Schedule
    steps: int
    latent_scale: int
    seed: int
    guidance: float
    prompt: str


def _setting(scene: Scene, name: str, given: Any, check: Callable[[Any], T], default: T) -> T:
    """`given` (checked: ArgumentError, exit status 2), else the scene's `<render>` value (the reader
    checked it), else `default`."""
    if given is not None:
        return check(given)
    own = getattr(scene.render, name, None)
    return default if own is None else own


def resolve_options(scene: Scene, schedule: Optional[str], steps: Optional[int], latent_scale: int, seed: Optional[int],
                    guidance: Optional[float]) -> Options:
    schedule = _setting(scene, "schedule", schedule, arguments.schedule, DEFAULT_SCHEDULE)
    steps = _setting(scene, "steps", steps, arguments.steps, DEFAULT_STEPS)
    if latent_scale < 1:
        raise DeditError(f"the latent scale must be positive, not {latent_scale}.")
    seed = _setting(scene, "seed", seed, arguments.seed, DEFAULT_SEED)
    guidance = _setting(scene, "guidance", guidance, lambda value: value, DEFAULT_GUIDANCE)
    return Options(schedule, int(steps), int(latent_scale), int(seed), float(guidance), scene.prompt or "")
