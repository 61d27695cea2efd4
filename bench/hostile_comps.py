"""`dedit import` on hostile and broken comps (tests/importing/hostile.py): each must be refused with exit
status 2 in under a second (issue 13, item 4).

    .venv/bin/python bench/hostile_comps.py [--runs 5]

Each comp is imported by a fresh `python -m designedit import` process (start-up counted, as a user meets
it); the table gives the exit status, the median wall time and the median CPU time (user + system) of the
child over the runs, and its message. A wall time over a second is marked `SLOW`; on a shared machine the
CPU time says what the command itself cost.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "importing"))
from hostile import CASES, write  # noqa: E402


def run_once(comp: Path, folder: Path) -> tuple[int, float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "designedit", "import", str(comp), "-o", str(folder / "s.dedit")],
                          capture_output=True, text=True, cwd=folder)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.returncode, wall, cpu, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, median of {args.runs}")
    slow = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case, name, maker, _ in CASES:
            comp = write(folder, name, maker)
            runs = [run_once(comp, folder) for _ in range(args.runs)]
            status = {r[0] for r in runs}
            wall, cpu = statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)
            mark = "SLOW" if wall > 1.0 else ""
            slow += bool(mark)
            print(f"{case:42s} exit {','.join(map(str, sorted(status)))}  wall {wall:5.2f} s  cpu {cpu:5.2f} s {mark:4s} {runs[0][3][:90]}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
