"""`dedit COMMAND` imports what that command needs and nothing more (issue 17, item 7: a pre-commit hook
runs `dedit validate` and `dedit fmt --check` on every commit). What they cost is measured by
bench/startup.py, not here; these tests hold the imports that decide it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from designedit.cli import COMMANDS, build_parser

SCENE = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <image id="p" src="p.png"/>
  <mask id="m" grow="2"><rect x="4" y="4" width="16" height="8"/></mask>
  <background image="p"><remove mask="m"/></background>
</dedit>
"""
# run `main`, then list every module the process imported
LIST_MODULES = "import sys; from designedit.cli import main; main(sys.argv[1:]); print(*sorted(sys.modules))"
# libraries no command needs before it has read its arguments: `import designedit.cli` loads none of them
HEAVY = ("numpy", "cv2", "PIL", "pydantic", "lxml", "torch", "diffusers", "jsonschema", "watchdog", "tqdm")
RENDER_ONLY = ("designedit.rendering", "designedit.watch", "designedit.cli.render_cmd", "designedit.cli.watch_cmd",
               "dedit_preview", "dedit_sdxl", "torch", "jsonschema", "watchdog", "tqdm")


def choices(parser) -> dict:
    return parser._subparsers._group_actions[0].choices


def test_each_command_is_registered_by_the_module_the_table_names():
    every = choices(build_parser())
    assert list(every) == list(COMMANDS)
    for command, module in COMMANDS.items():
        alone = choices(build_parser([command, "FILE"]))
        assert set(alone) == {c for c, m in COMMANDS.items() if m == module}
        assert alone[command].format_help() == every[command].format_help()


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h", "validate"], ["--version"], ["nonsense", "FILE"]])
def test_help_and_unknown_commands_see_every_command(argv):
    assert list(choices(build_parser(argv))) == list(COMMANDS)


def modules_of(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", LIST_MODULES, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.fixture()
def scene(tmp_path: Path) -> Path:
    Image.new("RGB", (64, 48), (200, 120, 40)).save(tmp_path / "p.png")
    path = tmp_path / "s.dedit"
    path.write_text(SCENE, encoding="utf-8")
    return path


def test_validate_compiles_without_the_rendering_machinery(tmp_path, scene):
    loaded = modules_of(tmp_path, "validate", scene.name)
    assert "designedit.compiler" in loaded  # validate compiles the scene
    assert not sorted(m for m in loaded if m.startswith(RENDER_ONLY))


@pytest.mark.parametrize("args", [["fmt", "--check"], ["validate", "--no-files"], ["convert", "--to", "json"]])
def test_commands_that_touch_no_pixels_load_neither_numpy_nor_opencv_nor_pillow(tmp_path, scene, args):
    loaded = modules_of(tmp_path, *args, scene.name)
    assert not sorted(m for m in loaded if m.split(".")[0] in ("numpy", "cv2", "PIL") or m.startswith(RENDER_ONLY))


def test_importing_the_command_line_loads_no_library():
    done = subprocess.run([sys.executable, "-c", "import sys, designedit.cli; print(*sorted(sys.modules))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "designedit.cli" in loaded
    assert not sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("designedit.") and
                      m not in ("designedit.cli", "designedit.errors", "designedit.version"))
