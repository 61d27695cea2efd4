"""`dedit serve`: render scenes submitted over HTTP (spec/service.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from designedit.cli import SIGTERM_STATUS, Terminated, readable_type
from designedit.cli.render_cmd import add_renderer_options, note_ignored_options, options_from_args
from designedit.cli.table import bounded
from designedit.errors import ArgumentError, DeditError, UsageError

DESCRIPTION = (
    "Serve an HTTP API that renders scenes: POST /v1/renders with a scene and its pictures (or a path under "
    "--root) answers a job id; GET /v1/renders/ID gives its state and progress, /image the PNG (the same bytes "
    "as dedit render), /layers the OpenRaster stack, /events a stream of its progress. The API is described at "
    "/docs. Every request needs the token (Authorization: Bearer TOKEN); one is made and printed when none is "
    "given. Jobs and their results live in --jobs-dir and survive a restart; jobs a stopped server left "
    "unfinished are marked failed. The renderer (a model) is loaded once per worker, before serving. --root "
    "names the folder scenes given by path are read from (their pictures confined to it); without it only "
    "uploads are taken."
)
JOBS_DIR_ENV = "DEDIT_JOBS_DIR"
MAX_CONCURRENCY = 16
WEB_EXTRA = ("fastapi", "starlette", "multipart", "python_multipart", "uvicorn")


def default_jobs_dir() -> Path:
    """$DEDIT_JOBS_DIR, else $XDG_STATE_HOME/dedit/jobs, else ~/.local/state/dedit/jobs."""
    given = os.environ.get(JOBS_DIR_ENV)
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dedit" / "jobs"


def _counted(what: str, low: int, high: int):
    return readable_type(what)(bounded(int, low, high, what + " must be a whole number, not {text!r}",
                                       f"{what} must be between {low} and {high}, not {{value}}"))


def _size(what: str):
    @readable_type("a size")
    def size(text: str) -> int:
        from designedit.checks.arguments import byte_size

        try:
            value = byte_size(text, what)
        except ArgumentError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{what} must be at least one byte")
        return value

    return size


def register(subparsers: argparse._SubParsersAction) -> None:
    from designedit.service.submit import Limits

    d = Limits()
    p = subparsers.add_parser("serve", help="render scenes submitted over HTTP", description=DESCRIPTION)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_counted("a port", 0, 65535), metavar="N", help="port (default: a free one, printed)")
    p.add_argument("--token", metavar="T", help="the token every request must carry (default: a random one, printed)")
    p.add_argument("--jobs-dir", type=Path, metavar="DIR",
                   help=f"where jobs and their results are kept (default: ${JOBS_DIR_ENV}, else ~/.local/state/dedit/jobs)")
    p.add_argument("--concurrency", type=_counted("the worker count", 1, MAX_CONCURRENCY), default=1, metavar="N",
                   help="renders at once, each worker with its own renderer (an SDXL worker loads its own model) "
                   "(default: 1)")
    p.add_argument("--max-upload", type=_size("the upload limit"), default=d.max_upload, metavar="BYTES",
                   help="the largest request body, e.g. 64M (default: 64M)")
    p.add_argument("--max-part", type=_size("the picture limit"), default=d.max_part, metavar="BYTES",
                   help="the largest picture in an upload (default: 32M)")
    p.add_argument("--max-queue", type=_counted("the queue length", 1, 100_000), default=d.max_queue, metavar="N",
                   help=f"renders that may wait; more are refused with 429 (default: {d.max_queue})")
    add_renderer_options(p)  # --root: the folder scenes named by path come from (none: uploads only)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.cli.notes import notes_on_stderr, stderr_line
    from designedit.rendering.atomic import why_unwritable
    from designedit.rendering.session import RenderSession
    from designedit.service.submit import Limits
    from designedit.web.server import bind, new_token, serve

    try:
        from designedit.service.launch import guarded_app, open_service
    except ModuleNotFoundError as exc:  # FastAPI is the web extra's
        if exc.name not in WEB_EXTRA:
            raise
        raise DeditError("Serving needs the web extra: pip install 'designedit[web]'.") from None

    if args.root is not None and not args.root.is_dir():
        raise UsageError(f"--root {args.root} is not a folder.")
    jobs_dir = args.jobs_dir if args.jobs_dir is not None else default_jobs_dir()
    why = why_unwritable(jobs_dir, folder=True)
    if why is not None:
        raise UsageError(f"the jobs folder {jobs_dir} cannot be used: {why}.")
    token = args.token or new_token()
    try:
        with notes_on_stderr():
            # bound first: a port in use is said before anything else, and before the jobs folder is touched
            sock = bind(args.host, args.port)
            try:
                options = options_from_args(args)  # progress on: renderer notes on stderr, as for render
                sessions = [RenderSession(args.renderer, options, announce=stderr_line if n == 0 else None)
                            for n in range(args.concurrency)]
                note_ignored_options(args, sessions[0])
                limits = Limits(max_upload=args.max_upload, max_part=args.max_part, max_queue=args.max_queue)
                defaults = {"schedule": args.schedule, "steps": args.steps, "seed": args.seed}
                service = open_service(jobs_dir, sessions, root=args.root, limits=limits, defaults=defaults,
                                       say=lambda line: print(line, flush=True))
            except BaseException:
                sock.close()
                raise
            if service.store.recovered:
                stderr_line(f"note: {len(service.store.recovered)} render(s) left unfinished by the last server "
                            "are marked failed.")
            stderr_line(f"jobs in {jobs_dir}; {len(service.store.all())} known")
            serve(guarded_app(service, token, args.host), sock, token=token, path="/docs",
                  announce=lambda url: print(f"serving on {url}", flush=True))
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: finished results are on disk already
        print("stopped serving" + (" (terminated)." if isinstance(stop, Terminated) else "."), file=sys.stderr, flush=True)
        return SIGTERM_STATUS if isinstance(stop, Terminated) else 0
    print("stopped serving.", file=sys.stderr, flush=True)
    return 0
