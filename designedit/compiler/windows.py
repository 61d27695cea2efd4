"""The method's step windows, scaled with the step count (exact at T = 50).

A window given for 50 steps as [a, b) becomes [round(a T/50), round(b T/50)),
rounding halves up. At 50 steps: key masking 1..39, refine 1..25, Eq. 2
blends after steps 0..40 (s + 1 <= 41), fusion after step 41, harmonisation
42..49; proximal guidance wherever the timestep is below 400.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PROXIMAL_BELOW_T = 400
PROXIMAL_SCALE = 0.1
PROXIMAL_QUANTILE = 0.75


def at(s50: float, steps: int) -> int:
    return int(math.floor(s50 * steps / 50.0 + 0.5))


@dataclass(frozen=True)
class Windows:
    steps: int
    key: range  # steps whose removal-branch cond half is key-masked
    refine: range  # steps where the key mask is remove OR refine
    blend: range  # steps after which L0 takes its outside from the source
    fusion: int  # the step after which the canvas is fused

    @classmethod
    def for_steps(cls, steps: int) -> "Windows":
        fusion = min(steps - 1, at(41, steps))
        return cls(
            steps=steps,
            key=range(at(1, steps), min(at(40, steps), steps)),
            refine=range(at(1, steps), min(at(26, steps), steps)),
            blend=range(0, fusion),
            fusion=fusion,
        )
