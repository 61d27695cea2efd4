"""Loading a scene needs no ML stack: `import designedit` and `designedit.load` leave torch unimported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared_paths import CONFORMANCE, checked  # noqa: E402

_CHECK = """
import sys
import designedit
for name in ("move-resize.dedit", "move-resize.dedit.json", "compose.dedit"):
    scene = designedit.load(sys.argv[1] + "/" + name)
    designedit.dump(scene, "xml"); designedit.dump(scene, "json")
from designedit.cli import build_parser
build_parser()
heavy = sorted(n for n in sys.modules if n.split(".")[0] in ("torch", "diffusers", "transformers"))
print(",".join(heavy) or "none")
"""


def test_loading_a_scene_leaves_torch_unimported():
    proc = subprocess.run([sys.executable, "-c", _CHECK, str(checked(CONFORMANCE))], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "none"
