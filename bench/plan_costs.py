"""Plan costs, fast vs reference, for every conformance document (UNet sample-evaluations).

    .venv/bin/python bench/plan_costs.py [--steps 50]

Cold = inversions included; "denoise" alone is what a warm inversion cache
leaves. Targets (issue 3): one-object move fast total <= 0.40x reference
total, fast denoise <= 0.20x reference total.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import designedit
from designedit.compiler import compile_scene

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--conformance", type=Path, default=CONFORMANCE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for p in args.conformance.iterdir():
            if p.is_file():
                shutil.copyfile(p, Path(tmp) / p.name)
        print("| document | reference inv + denoise = total | fast inv + denoise = total | fast/ref total | fast denoise/ref total |")
        print("|---|---|---|---|---|")
        for doc in sorted(Path(tmp).glob("*.dedit*")):
            scene = designedit.load(doc)
            ref = compile_scene(scene, schedule="reference", steps=args.steps).cost
            fast = compile_scene(scene, schedule="fast", steps=args.steps).cost
            print(
                f"| {doc.name} | {ref.inversion} + {ref.denoise} = {ref.total} | {fast.inversion} + {fast.denoise} = {fast.total} "
                f"| {fast.total / ref.total:.3f} | {fast.denoise / ref.total:.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
