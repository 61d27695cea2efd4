"""`dedit render FILE`: render a scene to a PNG (and optionally its layers and stats)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..renderer import RenderOptions


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text} is not a seed (0 to 2^63 - 1)")
    return value


def add_renderer_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `render` and `watch`."""
    parser.add_argument("--renderer", default="auto", metavar="R", help="auto (default), preview, sdxl, or another installed renderer")
    parser.add_argument("--model", metavar="M", help="SDXL model: a diffusers folder, a cached hub id or a .safetensors file (default: $DEDIT_MODEL)")
    parser.add_argument("--schedule", choices=["fast", "reference"], help="fast (default) or the authors' reference computation")
    parser.add_argument("--steps", type=_positive_int, metavar="N", help="denoising steps (default: the scene's, else 50)")
    parser.add_argument("--seed", type=_seed, metavar="S", help="random seed (default: the scene's, else 0)")
    parser.add_argument("--no-paste-back", dest="paste_back", action="store_false", help="keep the model's pixels outside the edited region too")
    parser.add_argument("--cache-dir", type=Path, metavar="D", help="inversion cache folder (default: $DEDIT_CACHE_DIR or ~/.cache/dedit)")
    parser.add_argument("--model-config", type=Path, metavar="DIR", help="diffusers config folder for a single .safetensors --model (default: $DEDIT_MODEL_CONFIG, else the cached SDXL base)")
    parser.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto")
    parser.add_argument("--dtype", choices=["fp16", "bf16", "fp32"])
    parser.add_argument("--offload", action="store_true", help="model CPU offload (less GPU memory, slower)")
    parser.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                        help="replay UNet calls from CUDA graphs (default: on for CUDA without --offload)")
    parser.add_argument("--root", type=Path, metavar="DIR", help="folder file references may not leave (default: the document's folder)")


def options_from_args(args: argparse.Namespace, progress: bool = True) -> RenderOptions:
    extra = {}
    if args.model_config:
        extra["model_config"] = str(args.model_config)
    if args.cuda_graphs is not None:
        extra["cuda_graphs"] = args.cuda_graphs
    return RenderOptions(
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        offload=args.offload,
        cache_dir=args.cache_dir,
        paste_back=args.paste_back,
        progress=progress,
        extra=extra,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("render", help="render a scene to a picture", description=__doc__)
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="picture to write (default: the scene's output, else FILE with .png)")
    add_renderer_options(p)
    p.add_argument("--stats", type=Path, metavar="STATS.json", help="write render statistics (unet_evals, seconds, ...) as JSON")
    p.add_argument("--layers", type=Path, metavar="DIR", help="also write the background and each layer as RGBA PNGs and an OpenRaster stack")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..rendering import RenderSession, default_output, load_scene

    scene = load_scene(args.file, root=args.root)
    output = args.output if args.output is not None else default_output(scene, args.file)
    session = RenderSession(args.renderer, options_from_args(args))
    result = session.render(
        scene,
        output=output,
        schedule=args.schedule,
        steps=args.steps,
        seed=args.seed,
        layers_dir=args.layers,
        stats_path=args.stats,
    )
    print(status_line(result.stats, output))
    return 0


def status_line(stats: dict, output: Path | str) -> str:
    w, h = stats["canvas"]
    return (
        f"wrote {output} ({w}x{h}) with {stats['renderer']} in {stats.get('total_seconds', stats.get('seconds', 0)):.2f} s: "
        f"{stats.get('unet_evals', 0)} UNet evaluations, {stats.get('cache_hits', 0)} cache hits"
    )
