"""`dedit watch FILE...`: re-render on every save of a scene or a picture it names."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from .render_cmd import add_renderer_options, options_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("watch", help="re-render scenes whenever they or their pictures change", description=__doc__)
    p.add_argument("files", type=Path, nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="picture to write (one FILE only; default: the scene's output, else FILE with .png)")
    add_renderer_options(p)
    p.set_defaults(func=run)


def _stop_on_sigterm() -> None:
    # SIGTERM ends the watcher exactly like Ctrl-C: outputs are whole or untouched.
    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(args: argparse.Namespace) -> int:
    from ..errors import DeditError
    from ..rendering import RenderSession
    from ..watch import Watcher

    for path in args.files:
        if not path.is_file():
            raise DeditError(f"{path} is not a file.")
    session = RenderSession(args.renderer, options_from_args(args))
    watcher = Watcher(
        args.files,
        session,
        output=args.output,
        root=args.root,
        render_args={"schedule": args.schedule, "steps": args.steps, "seed": args.seed},
        say=lambda line: print(line, flush=True),
    )
    _stop_on_sigterm()
    try:
        watcher.run()
    except KeyboardInterrupt:
        print("stopped watching.", flush=True)
    return 0
