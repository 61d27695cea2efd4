"""Pass: cost accounting in UNet sample-evaluations.

Inversion: one per step per plan image the plan reads (cold; `cacheable` lists
what an inversion cache can serve: every recipe is keyed by content, so all of
them). A plan that changes nothing reads none: its background recipe is only
the output picture.
Denoise: one per guidance half per eval per step. The reference schedule at
T steps with N layers costs T (1 + N) + 2 T (2 + [N > 0] + [occlusion] + N):
250 for a removal and 500 for a one-object move at 50 steps.
"""

from __future__ import annotations

from designedit.plan import Cost, Plan


def count(plan: Plan) -> Cost:
    inverted = plan.inverted_images()
    inversion = plan.steps * len(inverted)
    denoise = sum(len(e.halves) for st in plan.plan_steps for e in st.evals)
    return Cost(inversion=inversion, denoise=denoise, cacheable=[i.id for i in inverted if i.cacheable])


def reference_formula(n_steps: int, n_layers: int, occlusion: bool = False) -> Cost:
    """What the authors' code spends (method 3, 12)."""
    branches = 2 + (1 if n_layers else 0) + (1 if occlusion else 0) + n_layers
    return Cost(inversion=n_steps * (1 + n_layers), denoise=2 * n_steps * branches)
