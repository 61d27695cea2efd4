"""`dedit studio SCENE`: a live page for one scene, where layers are dragged and the scene file is rewritten."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from designedit.cli import SIGTERM_STATUS, Terminated, signals_unwind, stopped_line
from designedit.cli.table import bounded
from designedit.cli.render_cmd import add_renderer_options, note_ignored_options, options_from_args

DESCRIPTION = (
    "Serve a page on this machine that shows SCENE's render, replaced at every save, with its overlays (removal "
    "regions, each layer where it was cut and where it lands, the edit region), the plan's timeline and "
    "warnings, and the located errors of an invalid save (the last good picture is kept). Press on an object "
    "and drag it to move its layer, drag the handle to resize it, or flip it: each gesture is written into "
    "the scene file as the smallest change (the layer's last move adjusted, or one transform added), which "
    "is then rendered; edits made in a text editor meanwhile are picked up too. The page's address, printed "
    "at start, carries a random token that every request needs. Ctrl-C stops it."
)
SHUTDOWN_GRACE_S = 1.0  # the pages' event streams never end by themselves


_port = bounded(int, 0, 65535, "{text!r} is not a port number", "{text} is not a port number between 0 and 65535")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("studio", help="a live page for a scene: see the render, drag its layers",
                              description=DESCRIPTION)
    p.add_argument("file", type=Path, metavar="SCENE", help="the scene, a .dedit file (XML or JSON)")
    p.add_argument("--port", type=_port, default=0, metavar="N", help="port to serve on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="address to serve on (default 127.0.0.1; another one is reachable from other machines, "
                   "with a warning: the token is then all that guards it)")
    add_renderer_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.cli.notes import notes_on_stderr, stderr_line
    from designedit.cli.watch_cmd import check_start
    from designedit.rendering.session import RenderSession
    from designedit.studio.app import MAX_BODY, create_app
    from designedit.studio.board import Board
    from designedit.studio.live import StudioWatcher, start_thread
    from designedit.web.guard import guarded
    from designedit.web.server import bind, loopback_access, new_token, serve

    with signals_unwind(), notes_on_stderr():
        stop = threading.Event()
        try:
            args.files, args.output = [args.file], None
            check_start(args)
            sock = bind(args.host, args.port)  # before a model loads: a port in use is said at once
            session = RenderSession(args.renderer, options_from_args(args), announce=stderr_line)
            note_ignored_options(args, session)
            board = Board(scene=args.file.name)
            watcher = StudioWatcher(
                args.file, session, board, root=args.root,
                render_args={"schedule": args.schedule, "steps": args.steps, "seed": args.seed},
                say=lambda line: print(line, flush=True),
            )
            thread, _ = start_thread(watcher, stop)
            token = new_token()
            app = guarded(create_app(watcher, board), loopback_access(args.host, token, MAX_BODY))
            try:
                serve(app, sock, announce=lambda url: print(f"studio: {url}", flush=True), token=token,
                      grace=SHUTDOWN_GRACE_S)
            except KeyboardInterrupt as signal_:  # uvicorn stopped, then raised the signal it had caught
                _finish(watcher, board, stop, thread)
                print("stopped the studio" + (" (terminated)." if isinstance(signal_, Terminated) else "."), flush=True)
                return SIGTERM_STATUS if isinstance(signal_, Terminated) else 0
            _finish(watcher, board, stop, thread)
        except Terminated as signal_:  # before serving began (a model loading, say): nothing was written
            print(stopped_line(signal_), file=sys.stderr, flush=True)
            return SIGTERM_STATUS
    return 0


def _finish(watcher, board, stop: threading.Event, thread: threading.Thread) -> None:
    """Stop the render loop: a render in flight stops at its next step (outputs are whole or untouched)."""
    stop.set()
    watcher.stopping = True
    board.close()
    thread.join(timeout=30)
