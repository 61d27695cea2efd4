"""`dedit render FILE`: render a scene to a PNG (and optionally its layers and stats)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from designedit.checks import arguments
from designedit.errors import ArgumentError, UsageError
from designedit.rendering.protocol import RenderOptions
from designedit.cli import debug_pause, file_name_type, hold_signals, readable_type

DESCRIPTION = (
    "Render a scene to a PNG picture, and optionally its layers and statistics. Every output is checked "
    "before anything is rendered (a folder that cannot be written, a file where a folder should be, "
    "one of the scene's own files: exit status 2, nothing written); missing output folders are created. "
    "Files are written whole, once the render has succeeded."
)
EXIT_STATUSES = (
    "exit status: 0 done; 2 bad input (usage, an invalid document, an output that cannot be written); "
    "1 another failure (no model, out of memory); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). "
    "Nothing is written when a render is interrupted or terminated; once its files are being written, "
    "Ctrl-C and SIGTERM wait until they are all complete, and the exit status is 0."
)

# RenderOptions fields only the SDXL renderer reads, with the flag that sets each
MODEL_FLAGS = {"model": "--model", "device": "--device", "dtype": "--dtype", "offload": "--offload",
               "model_config": "--model-config", "cuda_graphs": "--cuda-graphs", "compile": "--compile"}


@readable_type("a step count")
def steps_arg(text: str) -> int:
    return _checked(arguments.steps, text, "the step count")


@readable_type("a seed")
def seed_arg(text: str) -> int:
    return _checked(arguments.seed, text, "the seed")


def _checked(check, text: str, what: str):
    """An argparse type from a check of designedit.checks.arguments (one sentence, exit status 2 either way)."""
    try:
        return check(arguments.from_text(text, what))
    except ArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


@readable_type("a size")
def cache_size_arg(text: str) -> int:
    try:
        return arguments.byte_size(text, "the cache size")
    except ArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


png_path = file_name_type(".png", "a .png file name", "dedit writes PNG with its metadata")


@readable_type("a renderer name")
def _renderer_name(text: str) -> str:
    from designedit.rendering.protocol import renderer_names

    if text == "auto":
        return text
    names = renderer_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"no renderer named {text!r} is installed (use auto, {', '.join(names)})")
    return text


def add_renderer_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `render` and `watch`."""
    parser.add_argument("--renderer", type=_renderer_name, default="auto", metavar="R",
                        help="auto (default: sdxl when a model is configured or found, else preview), preview, sdxl, "
                        "or another installed renderer")
    parser.add_argument("--model", metavar="M", help="SDXL model: a diffusers folder, a hub id in the local Hugging Face "
                        "cache, or a .safetensors file (default: $DEDIT_MODEL)")
    parser.add_argument("--schedule", choices=["fast", "reference"],
                        help="fast, or reference for the authors' computation (default: the scene's, else fast)")
    parser.add_argument("--steps", type=steps_arg, metavar="N", help="denoising steps (default: the scene's, else 50)")
    parser.add_argument("--seed", type=seed_arg, metavar="S", help="random seed (default: the scene's, else 0)")
    parser.add_argument("--no-paste-back", dest="paste_back", action="store_false", help="keep the model's pixels outside the edited region too")
    parser.add_argument("--cache-dir", type=Path, metavar="D", help="inversion cache folder (default: $DEDIT_CACHE_DIR or ~/.cache/dedit)")
    parser.add_argument("--cache-size", type=cache_size_arg, metavar="SIZE",
                        help="bound on the inversion cache folder, e.g. 4G, 500M, 2GB (least recently used entries go "
                        "first; 0 stores nothing) (default: $DEDIT_CACHE_SIZE, else 4G)")
    parser.add_argument("--model-config", type=Path, metavar="DIR", help="diffusers SDXL folder whose configs and tokenizers read a single .safetensors --model, of the "
                        "checkpoint's architecture (default: $DEDIT_MODEL_CONFIG, else SDXL base from the local Hugging Face "
                        "cache, else SDXL base's published configs with tokenizers from open_clip_torch's CLIP vocabulary); "
                        "a --model folder or hub id has its own configs: then it is ignored, with a warning")
    parser.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto",
                        help="where the SDXL renderer runs (default: auto, which is cuda, else mps, else cpu)")
    parser.add_argument("--dtype", choices=["fp16", "bf16", "fp32"],
                        help="SDXL number format (default: bf16 on CUDA GPUs that support it, else fp16 on GPUs, fp32 on CPU)")
    parser.add_argument("--offload", action="store_true", help="model CPU offload (less GPU memory, slower)")
    parser.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                        help="replay UNet calls from CUDA graphs (default: on for CUDA without --offload)")
    parser.add_argument("--compile", choices=["blocks", "unet"], metavar="WHAT",
                        help="run the UNet through torch.compile: blocks (its transformer blocks) or unet (all of it "
                        "as one graph, the most fusion); each new picture size and batch is compiled on first use "
                        "(unet: minutes on a GPU; PyTorch keeps the kernels in its disk cache), so it is meant for "
                        "watch and series of renders (default: off)")
    parser.add_argument("--root", type=Path, metavar="DIR", help="folder file references may not leave (default: the document's folder)")


def options_from_args(args: argparse.Namespace, progress: bool = True) -> RenderOptions:
    """The RenderOptions the flags say; UsageError (exit status 2) for a cache folder that is a file."""
    check_cache_dir(args.cache_dir)
    extra = {}
    if args.model_config:
        extra["model_config"] = str(args.model_config)
    if args.cuda_graphs is not None:
        extra["cuda_graphs"] = args.cuda_graphs
    if args.compile:
        extra["compile"] = args.compile
    if args.cache_size is not None:
        extra["cache_max_bytes"] = args.cache_size
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


def check_cache_dir(given: Path | None) -> None:
    """--cache-dir (else $DEDIT_CACHE_DIR) must be a folder, or a path where one can be made: a file there
    would silently turn the cache off."""
    from designedit.rendering.cache import CACHE_DIR_ENV, cache_dir_problem, default_cache_dir

    if given is None and not os.environ.get(CACHE_DIR_ENV):
        return  # the default one: not the user's doing, and only an optimisation
    root = given if given is not None else default_cache_dir()
    why = cache_dir_problem(root)
    if why is not None:
        source = "--cache-dir" if given is not None else f"${CACHE_DIR_ENV}"
        raise UsageError(f"the cache folder {root} ({source}) cannot be used: {why}.")


def note_ignored_options(args: argparse.Namespace, session) -> None:
    """One line on stderr when model options were given to a renderer that does not read them."""
    given = {
        "model": args.model is not None, "device": args.device != "auto", "dtype": args.dtype is not None,
        "offload": args.offload, "model_config": args.model_config is not None, "cuda_graphs": args.cuda_graphs is not None,
        "compile": args.compile is not None,
    }
    reads = getattr(session.choice.cls, "options_read", None)
    if reads is None:
        reads = set(MODEL_FLAGS) if session.name == "sdxl" else set()
    ignored = [MODEL_FLAGS[key] for key, was_given in given.items() if was_given and key not in reads]
    if ignored:
        they = "it is an SDXL option" if len(ignored) == 1 else "they are SDXL options"
        print(f"note: the {session.name} renderer ignores {', '.join(ignored)} ({they}).", file=sys.stderr, flush=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("render", help="render a scene to a picture", description=DESCRIPTION, epilog=EXIT_STATUSES)
    p.add_argument("file", type=Path, metavar="FILE", help="the scene, a .dedit file (XML or JSON)")
    p.add_argument("-o", "--output", type=png_path, metavar="OUT.png",
                   help="picture to write (default: the scene's output, else FILE with .png); missing folders are created")
    add_renderer_options(p)
    p.add_argument("--stats", type=Path, metavar="STATS.json",
                   help="write render statistics (unet_evals, seconds, ...) as JSON; missing folders are created")
    p.add_argument("--layers", type=Path, metavar="DIR",
                   help="also write the background and each layer as RGBA PNGs and an OpenRaster stack into DIR "
                   "(created if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.rendering.session import RenderSession, check_destinations, default_output, load_scene

    scene = load_scene(args.file, root=args.root)
    output = args.output if args.output is not None else default_output(scene, args.file)
    check_destinations(scene, output, args.layers, args.stats)  # before any model is loaded
    session = RenderSession(args.renderer, options_from_args(args))
    note_ignored_options(args, session)
    result = session.render(
        scene,
        output=output,
        schedule=args.schedule,
        steps=args.steps,
        seed=args.seed,
        layers_dir=args.layers,
        stats_path=args.stats,
        warn=lambda sentence: print(f"warning: {sentence}", file=sys.stderr, flush=True),
        on_commit=hold_signals,  # from the first output's rename on, a signal waits for the rest
    )
    debug_pause("written")
    print(status_line(result.stats, output))
    return 0


def status_line(stats: dict, output: Path | str) -> str:
    from designedit.rendering.session import work_summary

    w, h = stats["canvas"]
    return (
        f"wrote {output} ({w}x{h}) with {stats['renderer']} in {stats.get('total_seconds', stats.get('seconds', 0)):.2f} s: "
        f"{work_summary(stats)}"
    )
