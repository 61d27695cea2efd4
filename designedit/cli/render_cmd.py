"""`dedit render FILE`: render a scene to a PNG (and optionally its layers and stats)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    from designedit.rendering.registry import renderer_names

    if text == "auto":
        return text
    names = renderer_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"no renderer named {text!r} is installed (use auto, {', '.join(names)})")
    return text


def _auto_help(plugins: dict) -> str:
    """--renderer's help, from the installed renderers: which `auto` takes when, and their names."""
    order = []
    for name, plugin in plugins.items():  # highest priority first, down to one that always runs
        order.append(f"{name} {plugin.chosen_when}".strip())
        if not plugin.chosen_when:
            break
    return f"auto (default: {', else '.join(order)}), {', '.join(sorted(plugins))}, or another installed renderer"


def add_renderer_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `render` and `watch`: the core's, then each installed renderer's own (its plugin's
    `add_arguments`, in a group of their own)."""
    from designedit.rendering.registry import installed

    plugins = installed()
    parser.add_argument("--renderer", type=_renderer_name, default="auto", metavar="R", help=_auto_help(plugins))
    parser.add_argument("--schedule", choices=["fast", "reference"],
                        help="fast, or reference for the authors' computation (default: the scene's, else fast)")
    parser.add_argument("--steps", type=steps_arg, metavar="N", help="denoising steps (default: the scene's, else 50)")
    parser.add_argument("--seed", type=seed_arg, metavar="S", help="random seed (default: the scene's, else 0)")
    parser.add_argument("--no-paste-back", dest="paste_back", action="store_false", help="keep the model's pixels outside the edited region too")
    parser.add_argument("--cache-dir", type=Path, metavar="D", help="inversion cache folder (default: $DEDIT_CACHE_DIR or ~/.cache/dedit)")
    parser.add_argument("--cache-size", type=cache_size_arg, metavar="SIZE",
                        help="bound on the inversion cache folder, e.g. 4G, 500M, 2GB (least recently used entries go "
                        "first; 0 stores nothing) (default: $DEDIT_CACHE_SIZE, else 4G)")
    parser.add_argument("--root", type=Path, metavar="DIR", help="folder file references may not leave (default: the document's folder)")
    flags: list[RendererFlag] = []
    for name, plugin in plugins.items():
        group = parser.add_argument_group(f"{plugin.label} renderer options (--renderer {name})")
        plugin.add_arguments(group)
        flags += [RendererFlag(a.option_strings[0], a.dest, a.default, name, plugin.label) for a in group._group_actions]
    parser.set_defaults(renderer_flags=tuple(flags))


@dataclass(frozen=True)
class RendererFlag:
    """A flag a renderer added (`note_ignored_options` tells its owner apart from the renderer chosen)."""

    flag: str  # "--model"
    dest: str
    default: Any
    owner: str  # the renderer's name
    label: str  # its plugin's label: "SDXL"


def options_from_args(args: argparse.Namespace, progress: bool = True) -> RenderOptions:
    """The RenderOptions the flags say, each renderer's own options made by its plugin; UsageError (exit
    status 2) for a cache folder that is a file."""
    from designedit.rendering.registry import installed

    check_cache_dir(args.cache_dir)
    own = (plugin.options_from_args(args) for plugin in installed().values())
    return RenderOptions(
        paste_back=args.paste_back,
        progress=progress,
        cache_dir=args.cache_dir,
        cache_max_bytes=args.cache_size,
        renderer_options=tuple(o for o in own if o is not None),
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
    """One line on stderr when flags of another renderer were given to the one chosen, which ignores them."""
    own = {f.dest for f in args.renderer_flags if f.owner == session.name}
    reads = own | set(getattr(session.choice.cls, "options_read", None) or ())
    ignored = [f for f in args.renderer_flags if f.dest not in reads and getattr(args, f.dest) != f.default]
    if not ignored:
        return
    labels = list(dict.fromkeys(f.label for f in ignored))
    if len(labels) > 1:
        they = f"they are options of the {' and '.join(labels)} renderers"
    else:
        they = f"it is an {labels[0]} option" if len(ignored) == 1 else f"they are {labels[0]} options"
    names = ", ".join(f.flag for f in ignored)
    print(f"note: the {session.name} renderer ignores {names} ({they}).", file=sys.stderr, flush=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("render", help="render a scene to a picture", description=DESCRIPTION, epilog=EXIT_STATUSES)
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="the scene, a .dedit file (XML or JSON); several scenes, folders (their *.dedit and "
                   "*.dedit.json) or globs make a batch, rendered on one renderer")
    p.add_argument("-o", "--output", type=png_path, metavar="OUT.png",
                   help="picture to write (default: the scene's output, else FILE with .png); missing folders are created")
    add_renderer_options(p)
    p.add_argument("--stats", type=Path, metavar="STATS.json",
                   help="write render statistics (unet_evals, seconds, ...) as JSON; missing folders are created")
    p.add_argument("--layers", type=Path, metavar="DIR",
                   help="also write the background and each layer as RGBA PNGs and an OpenRaster stack into DIR "
                   "(created if missing)")
    add_batch_options(p)
    p.set_defaults(func=run, parser=p)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    from designedit.batch.manifest import MANIFEST_HELP

    group = parser.add_argument_group("batches (several scenes, a folder, a glob, or --each)", BATCH_HELP)
    group.add_argument("--each", type=Path, metavar="MANIFEST.csv", help=MANIFEST_HELP)
    group.add_argument("--jobs", type=jobs_arg, default=1, metavar="N",
                       help="preview renders in N parallel processes (identical pixels); with --ray, at most N actors")
    group.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="render the batch over a Ray cluster (default: $RAY_ADDRESS, else a local one): one "
                       "renderer per GPU, else per CPU slot; needs pip install 'designedit[ray]'")


BATCH_HELP = (
    "Each scene is rendered to its own output (its <output>, else its name with .png), one line each (ok, bad, "
    "failed); a scene that fails is reported, located, and the others go on. Exit status: 0 all rendered; 1 if "
    "any failed for another reason than its input; else 2 if any document, row or destination was bad."
)


@readable_type("a number of jobs")
def jobs_arg(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1024:
        raise argparse.ArgumentTypeError(f"{text} is not a number of jobs from 1 to 1024")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from designedit.batch.sources import is_batch, looks_like_address

    files = [str(f) for f in args.files]
    if args.ray and not looks_like_address(args.ray):  # `--ray scene.dedit`: the scene, not an address
        files.insert(0, args.ray)
        args.ray = ""
    if not files:
        args.parser.error("the following arguments are required: FILE")
    if args.each is None and args.ray is None and not is_batch(files):
        args.file = Path(files[0])
        return run_one(args)
    return run_batch_command(args, files)


def run_batch_command(args: argparse.Namespace, files: list[str]) -> int:
    """Several scenes, a folder, a glob, --each or --ray: one renderer for them all, a line per scene."""
    from designedit.batch.driver import run_batch
    from designedit.batch.jobs import Settings
    from designedit.batch.report import Reporter, exit_status
    from designedit.batch.sources import scene_paths
    from designedit.cli.notes import notes_on_stderr, stderr_line

    for flag, given in (("-o", args.output), ("--layers", args.layers), ("--stats", args.stats)):
        if given is not None:
            what = "a manifest's rows" if args.each is not None else "several scenes"
            raise UsageError(f"{flag} is for one scene; {what} each go to their own output.")
    settings = Settings(schedule=args.schedule, steps=args.steps, seed=args.seed, root=args.root)
    if args.each is not None:
        from designedit.batch.manifest import manifest_jobs

        if len(files) != 1:
            raise UsageError("--each fills one template scene; name one scene with it.")
        jobs = manifest_jobs(Path(files[0]), args.each, args.root)
    else:
        from designedit.batch.jobs import Job

        jobs = [Job(str(path), path) for path in scene_paths(files)]
    report = Reporter(len(jobs))
    try:
        with notes_on_stderr():
            run_batch(args.renderer, options_from_args(args), jobs, settings, report, workers=args.jobs,
                      ray_address=args.ray, announce=stderr_line)
    except KeyboardInterrupt as stop:
        stop.rewritten, stop.verb = report.written(), "writing"  # main says how many were written, whole
        raise
    finally:
        report.close()
    print(report.summary())
    return exit_status(report.outcomes)


def run_one(args: argparse.Namespace) -> int:
    from designedit.cli.notes import notes_on_stderr, stderr_line
    from designedit.rendering.session import RenderSession, check_destinations, default_output, load_scene

    scene = load_scene(args.file, root=args.root)
    output = args.output if args.output is not None else default_output(scene, args.file)
    check_destinations(scene, output, args.layers, args.stats)  # before any model is loaded
    with notes_on_stderr():
        session = RenderSession(args.renderer, options_from_args(args), announce=stderr_line)
        note_ignored_options(args, session)
        result = session.render(
            scene,
            output=output,
            schedule=args.schedule,
            steps=args.steps,
            seed=args.seed,
            layers_dir=args.layers,
            stats_path=args.stats,
            warn=lambda sentence: stderr_line(f"warning: {sentence}"),
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
