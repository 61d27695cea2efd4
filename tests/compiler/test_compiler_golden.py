"""Golden plans: one scene per operation, both schedules, compared as JSON.

Regenerate after an intended change with

    DEDIT_REGEN_GOLDEN=1 .venv/bin/pytest tests/compiler/test_compiler_golden.py

and review the diff of tests/golden/. In the fixtures, picture paths read
`$ROOT/<name>` and each mask keeps its shape, sha256 and area (the
compressed bytes are left out: the hash pins them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compiler_scenes import copy_pictures, operation_scenes
from designedit.compiler import compile_scene

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
OPERATIONS = ["remove", "refine", "move", "resize", "flip", "rotate", "copy", "pan", "zoom-out", "compose", "occlusion", "noop"]
REGEN = os.environ.get("DEDIT_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = copy_pictures(tmp_path_factory.mktemp("golden"))
    return folder, operation_scenes(folder)


def normalised(plan, folder: Path) -> str:
    d = plan.to_dict()
    for mask in d["masks"].values():
        mask.pop("zlib_b64")
    text = json.dumps(d, indent=1, sort_keys=False)
    return text.replace(str(folder.resolve()), "$ROOT") + "\n"


@pytest.mark.parametrize("schedule", ["reference", "fast"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_plan_matches_golden(scenes, operation, schedule):
    folder, by_name = scenes
    text = normalised(compile_scene(by_name[operation], schedule=schedule), folder)
    path = GOLDEN / f"{operation}.{schedule}.json"
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"no golden plan {path.name}; run with DEDIT_REGEN_GOLDEN=1"
    assert text == path.read_text(), f"{path.name} changed; if intended, regenerate with DEDIT_REGEN_GOLDEN=1"


def test_every_operation_has_a_scene(scenes):
    assert sorted(scenes[1]) == sorted(OPERATIONS)
