"""Plan versions: the one this dedit writes, and how older ones are read.

A plan read from JSON is first brought to `PLAN_VERSION` through `UPGRADES`,
one version at a time, and only then decoded into the plan classes; so a
change to the plan's form adds one entry here and leaves the codec alone.
"""

from __future__ import annotations

from typing import Any, Callable

from designedit.errors import DeditError

PLAN_VERSION = "1"

# version -> a function returning that version's plan dict as the next version writes it
# (it sets "version"); empty while version 1 is the only one there is
UPGRADES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(d: Any) -> dict[str, Any]:
    """The plan dict `d` as `PLAN_VERSION` writes it."""
    if not isinstance(d, dict):
        raise DeditError("a plan is a JSON object; this is not one.")
    seen: set[str] = set()
    while (version := d.get("version")) != PLAN_VERSION:
        step = UPGRADES.get(version) if isinstance(version, str) and version not in seen else None
        if step is None:
            readable = ", ".join(sorted({PLAN_VERSION, *UPGRADES}))
            raise DeditError(f"the plan's version is {version!r}; this dedit reads plan version {readable}.")
        seen.add(version)
        d = step(d)
    return d
