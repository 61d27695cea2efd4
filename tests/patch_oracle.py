"""What a patch of a scene's text must mean (io.patch), told on the model: the oracle of the patch tests."""

from __future__ import annotations

from decimal import Decimal

from designedit.model import scene as m


def last_move_changes(scene: m.Scene, layer_id: str, dx: float, dy: float) -> m.Scene:
    """The model edit a move stands for (spec: the last move changed, unless it must add pixels to a
    percentage; else one move appended)."""
    layers = list(scene.layers)
    index = next(i for i, layer in enumerate(layers) if layer.id == layer_id)
    transforms = list(layers[index].transforms)
    last = transforms[-1] if transforms else None
    changed = {name: delta for name, delta in (("dx", dx), ("dy", dy)) if delta != 0}
    if isinstance(last, m.Move) and not any(isinstance(getattr(last, name), str) for name in changed):
        transforms[-1] = last.model_copy(update={name: decimal_sum(getattr(last, name), delta) for name, delta in changed.items()})
    elif changed:
        transforms.append(m.Move(dx=dx, dy=dy))
    layers[index] = layers[index].model_copy(update={"transforms": transforms})
    return scene.model_copy(update={"layers": layers})


def decimal_sum(a: float, b: float) -> float:
    """Values add as decimals do, each number taken as its shortest spelling (0.1 + 0.2 is written 0.3)."""
    total = float(Decimal(repr(a)) + Decimal(repr(b)))
    return int(total) if total.is_integer() else total


def changed_region(before: str, after: str) -> tuple[int, int, str]:
    """(start, end) of what changed in `before`, and what stands there in `after`."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    return prefix, len(before) - suffix, after[prefix : len(after) - suffix]
