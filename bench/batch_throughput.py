"""Throughput of a batch of scenes: serial `dedit render` per scene vs one batch command vs Ray, in one run.

    python3 bench/batch_throughput.py [--scenes 20] [--steps 20] [--ray-workers 2] [--no-ray]
    python3 bench/batch_throughput.py --full-size [--dtype bf16] [--native-size 1024] [--steps 50] --no-ray

Writes an SDXL-shaped model with random weights as a diffusers folder (the tiny test model of
tests/sdxl_tiny.py; with --full-size SDXL 1.0 base's architecture, built by bench/sdxl_gpu.py's builder),
and N scenes, each with a picture of its own (a disc at its own place, moved or removed: no inversion is
shared between scenes), copied into one folder per leg. Then, each leg timed from the outside as a user
would wait for it:

- serial: one `dedit render SCENE --model M` process per scene (every one imports torch and loads M);
- batch: one `dedit render FOLDER --model M` (one process, the model loaded once);
- ray: one `dedit render --ray --jobs W FOLDER --model M` (a local Ray started by the command; W actors,
  each loading M once). Skipped with --no-ray, or when Ray is not installed.

Every leg starts with an empty inversion cache of its own. Prints a markdown table (wall seconds, seconds
per scene, ratio to serial, model loads seen, whether every output's pixels equal the serial leg's) and
writes it to --out if given. Needs only torch, diffusers, transformers, pydantic and the project's pure
Python dependencies: the project need not be installed (it runs `python -m designedit` from this
checkout, and declares the renderer plugins itself when no installed package does).

--native-size shrinks the full-size model's native side (the UNet config's sample size; the weights are
the same), so the full-size path can be dry-run on a CPU: `--full-size --native-size 128 --steps 2
--scenes 2 --no-ray --dtype bf16`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT, ROOT / "renderers", ROOT / "tests", ROOT / "bench"]
for p in PATHS:
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

LOAD_LINE = "loading model"  # what the SDXL renderer says on stderr when it loads a model (the CLI's note)


def write_scenes(folder: Path, count: int, size: int) -> None:
    """`scene-NN.dedit` with `picture-NN.png` and `disc-NN.png`: even scenes move their disc, odd remove it."""
    folder.mkdir(parents=True)
    y, x = np.mgrid[0:size, 0:size] / size
    for i in range(count):
        cx, cy = 0.25 + 0.02 * (i % 10), 0.35 + 0.03 * (i % 7)
        img = np.stack([60 + 120 * x + 3 * i, 80 + 100 * y, 140 + 60 * np.sin((7 + i) * x * y)], -1)
        disc = (x - cx) ** 2 + (y - cy) ** 2 < 0.1**2
        img[disc] = [210, 30 + 5 * i, 30]
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"picture-{i:02d}.png")
        Image.fromarray((disc * 255).astype(np.uint8)).save(folder / f"disc-{i:02d}.png")
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n'
                f'  <image id="pic" src="picture-{i:02d}.png"/>\n  <mask id="disc" src="disc-{i:02d}.png"/>\n')
        if i % 2 == 0:
            body = (f'  <background image="pic"/>\n  <layer id="disc" image="pic" mask="disc">\n'
                    f'    <move dx="{size // 5 + 4 * i}" dy="{8 * (i % 3)}"/>\n  </layer>\n')
        else:
            body = '  <background image="pic">\n    <remove mask="disc"/>\n  </background>\n'
        (folder / f"scene-{i:02d}.dedit").write_text(head + body + "</dedit>\n")


def build_model(folder: Path, full_size: bool, dtype_name: str, native_size: int) -> None:
    """The model as a diffusers folder (what `--model` opens, as a user's would be)."""
    import torch

    if not full_size:
        from sdxl_tiny import build_tiny_sdxl

        build_tiny_sdxl(folder)
        return
    from sdxl_gpu import build_pipeline

    cuda = torch.cuda.is_available()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype_name]
    pipe = build_pipeline(torch.device("cuda" if cuda else "cpu"), dtype, False, folder.parent / "vocab-build")
    pipe.save_pretrained(str(folder))
    del pipe
    if native_size != 1024:  # the side the renderer plans for: UNet sample size x VAE factor 8
        config_path = folder / "unet" / "config.json"
        config = json.loads(config_path.read_text())
        config["sample_size"] = native_size // 8
        config_path.write_text(json.dumps(config, indent=2))
    if cuda:
        torch.cuda.empty_cache()


def plugin_path(tmp: Path) -> list[str]:
    """Where the renderer plugins are declared: nothing more when an installed package declares them, else a
    small distribution record written here (entry points are read from installed metadata only)."""
    from importlib.metadata import entry_points

    if {ep.name for ep in entry_points(group="designedit.renderers")} >= {"preview", "sdxl"}:
        return []
    info = tmp / "plugins" / "designedit_bench_plugins-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: designedit-bench-plugins\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[designedit.renderers]\npreview = dedit_preview:PreviewRenderer\nsdxl = dedit_sdxl:SDXLRenderer\n")
    return [str(info.parent)]


def run_leg(command: list[str], env: dict, log: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    with log.open("a") as f:
        f.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}(exit status {done.returncode})\n")
    if done.returncode != 0:
        sys.exit(f"the leg failed (exit status {done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}")
    return seconds, done.stderr


def pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("scene-*.png"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=512, help="the scenes' pictures, square, in pixels")
    ap.add_argument("--ray-workers", type=int, default=2, help="Ray actors (--jobs of the ray leg)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray leg (Ray is not installed everywhere)")
    ap.add_argument("--full-size", action="store_true", help="SDXL 1.0 base's architecture, random weights")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"], help="--full-size: weights and "
                    "renders in this format (the tiny model renders in dedit's default)")
    ap.add_argument("--native-size", type=int, default=1024,
                    help="--full-size: the model's native side in px (smaller only to dry-run on a CPU)")
    ap.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS for every leg (0: leave it)")
    ap.add_argument("--out", type=Path, help="also write the table (markdown) here")
    ap.add_argument("--keep", type=Path, help="keep the work folder here (model, scenes, outputs, log)")
    args = ap.parse_args()

    ray_ok = not args.no_ray
    if ray_ok:
        try:
            import ray  # noqa: F401
        except ImportError:
            print("note: Ray is not installed: the ray leg is skipped.", file=sys.stderr)
            ray_ok = False
    tmp = Path(tempfile.mkdtemp(prefix="dedit-batch-bench-")) if args.keep is None else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        model = tmp / "model"
        build_model(model, args.full_size, args.dtype, args.native_size)
        print(f"model written in {time.perf_counter() - started:.1f} s", flush=True)
        write_scenes(tmp / "scenes", args.scenes, args.size)
        legs = ["serial", "batch"] + (["ray"] if ray_ok else [])
        for leg in legs:
            shutil.copytree(tmp / "scenes", tmp / leg)
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
        extra = [str(ROOT), str(ROOT / "renderers"), *plugin_path(tmp)]
        env["PYTHONPATH"] = os.pathsep.join(extra + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        dedit = [sys.executable, "-m", "designedit", "render"]
        common = ["--renderer", "sdxl", "--model", str(model), "--steps", str(args.steps)]
        if args.full_size:
            common += ["--dtype", args.dtype]
        log = tmp / "log.txt"
        rows = []
        for leg in legs:
            leg_env = dict(env, DEDIT_CACHE_DIR=str(tmp / f"cache-{leg}"))
            if leg == "serial":
                seconds, loads = 0.0, 0
                for scene in sorted((tmp / leg).glob("scene-*.dedit")):
                    s, err = run_leg(dedit + [str(scene), *common], leg_env, log)
                    seconds += s
                    loads += err.count(LOAD_LINE)
                command = f"{args.scenes} x `dedit render scene-NN.dedit --model M`"
            elif leg == "batch":
                seconds, err = run_leg(dedit + [str(tmp / leg), *common], leg_env, log)
                loads = err.count(LOAD_LINE)
                command = "`dedit render FOLDER --model M`"
            else:
                seconds, err = run_leg(dedit + ["--ray", "--jobs", str(args.ray_workers), str(tmp / leg), *common],
                                       leg_env, log)
                loads = None  # actors load quietly
                command = f"`dedit render --ray --jobs {args.ray_workers} FOLDER --model M` (local Ray)"
            rows.append((leg, command, seconds, loads))
            print(f"{leg}: {seconds:.1f} s", flush=True)
        serial = pixels(tmp / "serial")
        assert len(serial) == args.scenes, f"the serial leg wrote {len(serial)} pictures, not {args.scenes}"
        table = [
            f"{'SDXL base architecture, random weights, ' + args.dtype if args.full_size else 'tiny SDXL (tests/sdxl_tiny.py)'}, "
            f"{_device()}, {args.scenes} scenes of {args.size}x{args.size} (half moves, half removals), "
            f"{args.steps} steps, fast schedule{', native ' + str(args.native_size) if args.full_size else ''}",
            "",
            "| leg | command | wall s | s per scene | / serial | model loads seen | pixels = serial |",
            "|---|---|---|---|---|---|---|",
        ]
        for leg, command, seconds, loads in rows:
            same = all(np.array_equal(a, b) for a, b in zip(serial.values(), pixels(tmp / leg).values())) \
                and pixels(tmp / leg).keys() == serial.keys()
            table.append(f"| {leg} | {command} | {seconds:.1f} | {seconds / args.scenes:.2f} | "
                         f"{seconds / rows[0][2]:.2f} | {'-' if loads is None else loads} | {'yes' if same else 'NO'} |")
        text = "\n".join(table)
        print("\n" + text)
        if args.out:
            args.out.write_text(text + "\n")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def _device() -> str:
    import platform

    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"


if __name__ == "__main__":
    main()
