"""`dedit watch FILE...`: re-render on every save of a scene or a picture it names."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from designedit.cli import SIGTERM_STATUS, Terminated, signals_unwind, stopped_line
from designedit.errors import UsageError
from designedit.cli.render_cmd import add_renderer_options, note_ignored_options, options_from_args, png_path

DESCRIPTION = (
    "Render each scene, then render it again whenever it or a picture it names changes. Outputs are checked "
    "at start (exit status 2 when one cannot be written) and replaced only by finished renders; an invalid "
    "document is reported and the watcher keeps going. Ctrl-C stops watching (exit status 0). SIGTERM stops it "
    "the same way (outputs whole or untouched) but exits with status 143 (128 + 15), as terminated programs do, "
    "so a supervisor can tell it was stopped from outside."
)

def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("watch", help="re-render scenes whenever they or their pictures change", description=DESCRIPTION)
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help="scenes, .dedit files (XML or JSON)")
    p.add_argument("-o", "--output", type=png_path, metavar="OUT.png",
                   help="picture to write (one FILE only; default: the scene's output, else FILE with .png); "
                   "missing folders are created")
    add_renderer_options(p)
    p.set_defaults(func=run)


def check_start(args: argparse.Namespace) -> None:
    """Usage and output destinations, before a renderer is loaded (UsageError/DestinationError: status 2)."""
    from designedit.errors import SceneError
    from designedit.rendering.outputs import check_destination
    from designedit.rendering.session import check_destinations, default_output, load_scene

    if args.output is not None and len(args.files) != 1:
        raise UsageError("-o names one picture, so it can be used with one FILE only.")
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path} is not a file.")
    writers: dict[Path, Path] = {}  # output -> the first scene that writes it
    for path in args.files:
        try:
            scene = load_scene(path, root=args.root)
        except SceneError:  # reported by the watcher, which waits for a fix
            if args.output is not None:
                check_destination(args.output)
            continue
        output = args.output if args.output is not None else default_output(scene, path)
        check_destinations(scene, output)
        first = writers.setdefault(Path(output).resolve(), path)
        if first != path:  # a scene copied to try a variant keeps the original's <output>
            print(f"note: {first} and {path} both write {output}; each render replaces the other's picture.",
                  file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from designedit.cli.notes import notes_on_stderr, stderr_line
    from designedit.rendering.session import RenderSession
    from designedit.watch import Watcher

    # signals_unwind: also when run() is called without main() (not from another thread: no handler there)
    with signals_unwind(), notes_on_stderr():
        try:
            check_start(args)
            session = RenderSession(args.renderer, options_from_args(args), announce=stderr_line)
            note_ignored_options(args, session)
            watcher = Watcher(
                args.files,
                session,
                output=args.output,
                root=args.root,
                render_args={"schedule": args.schedule, "steps": args.steps, "seed": args.seed},
                say=lambda line: print(line, flush=True),
            )
            try:
                watcher.run()
            except KeyboardInterrupt as stop:
                print("stopped watching" + (" (terminated)." if isinstance(stop, Terminated) else "."), flush=True)
                return SIGTERM_STATUS if isinstance(stop, Terminated) else 0
        except Terminated as stop:  # before watching began (a model loading, say): nothing was written either
            print(stopped_line(stop), file=sys.stderr, flush=True)
            return SIGTERM_STATUS
    return 0
