"""Start-up of `dedit validate` (a pre-commit hook's cost): wall time of the whole process on a ~500-byte scene,
median of 7 runs, side by side with a bare `python -c pass` (issue 17, item 7; target: validate under 0.25 s).

    .venv/bin/python bench/startup.py [SCENE] [--runs 7] [--imports] [--before CHECKOUT]

`python -m designedit` is what the `dedit` script runs (give or take one import), and with PYTHONPATH it
measures another checkout in the same environment; --before CHECKOUT times that checkout's validate and fmt
(through PYTHONPATH) in the same run, alternating with this one's, so before and after see the same load. `dedit fmt --check`, the other
command a hook runs, is timed beside them, and so is a bare import of the libraries validate needs (NumPy,
OpenCV, lxml, Pillow, pydantic): the floor under its time.

The commands alternate, so a busy moment of a shared machine weighs on both alike. Every run gets a
bytecode cache (a fresh PYTHONPYCACHEPREFIX, warmed by one run of each that is not counted), as an installed
package has: with PYTHONDONTWRITEBYTECODE set and an editable install, each run would compile the project's
sources again. --imports also lists the slowest imports of one validate run (python -X importtime).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCENE = HERE.parent / "examples" / "remove-title.dedit"  # 510 bytes: one picture, two masks, two removals
# what validate cannot do without (the model, the XML parser, picture headers, the compiler's arrays), imported
# and nothing else: the floor under validate's time; the rest is designedit's own
LIBRARIES = [sys.executable, "-c", "import numpy, cv2, lxml.etree, PIL.Image; from pydantic import BaseModel"]


def wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return seconds


def slowest_imports(scene: Path, env: dict[str, str], n: int = 15) -> list[str]:
    """The `n` slowest top-level imports of one validate run (cumulative, as -X importtime says)."""
    command = [sys.executable, "-X", "importtime", "-m", "designedit", "validate", scene.name]
    done = subprocess.run(command, env=env, cwd=scene.parent, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))
    return [f"{us / 1000:7.1f} ms  {name}" for us, name in sorted(rows, reverse=True)[:n]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scene", nargs="?", type=Path, default=DEFAULT_SCENE)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--imports", action="store_true", help="list the slowest imports of one validate run")
    parser.add_argument("--before", type=Path, metavar="CHECKOUT", help="another checkout to time alongside")
    args = parser.parse_args()
    scene = args.scene.resolve()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="dedit-startup-pyc-") as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        bare = [sys.executable, "-c", "pass"]
        dedit = [sys.executable, "-m", "designedit"]
        commands = {"python -c pass": bare, "dedit validate": [*dedit, "validate", scene.name],
                    "dedit fmt --check": [*dedit, "fmt", "--check", scene.name], "its libraries": [*LIBRARIES]}
        envs = {name: env for name in commands}
        if args.before is not None:  # the same commands of another checkout, first on the module path
            before = {**env, "PYTHONPATH": str(args.before.resolve())}
            for name in ("dedit validate", "dedit fmt --check"):
                commands[f"{name} (before)"], envs[f"{name} (before)"] = commands[name], before
        for name, command in commands.items():  # warm-up: fills the bytecode cache (and the OS's file cache)
            wall(command, envs[name], scene.parent)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(wall(command, envs[name], scene.parent))
        imports = slowest_imports(scene, env) if args.imports else []
    print(f"dedit validate {scene.name} ({scene.stat().st_size} bytes), {args.runs} runs each, alternating; "
          f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}:")
    for name, seconds in times.items():
        print(f"  {name:26} median {statistics.median(seconds) * 1000:6.0f} ms   best {min(seconds) * 1000:6.0f} ms")
    own = statistics.median(times["dedit validate"]) - statistics.median(times["its libraries"])
    print(f"  validate beyond its libraries' imports (median difference): {own * 1000:.0f} ms")
    if imports:
        print("slowest imports of one validate run (cumulative, under -X importtime, which slows them):")
        print("\n".join("  " + row for row in imports))


if __name__ == "__main__":
    main()
