"""`dedit`: the command line. Each subcommand lives in its own module with a
`register(subparsers)` that adds its parser and sets `func(args) -> int`.

Exit statuses: 0 done; 2 bad input (a usage error, an invalid document, an
output that cannot be written, found before any work); 1 any other failure
(no model, out of memory); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM),
which unwinds like Ctrl-C so nothing is half-written.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from importlib import import_module

from ..errors import DeditError, SceneError

class UsageError(DeditError):
    """Command-line input that cannot work (found by dedit rather than argparse): exit status 2, like
    argparse's own usage errors."""

    exit_status = 2


def readable_type(name: str):
    """Give an argparse `type=` function a readable name: argparse quotes `__name__` in its messages."""

    def rename(function):
        function.__name__ = name
        return function

    return rename


SIGTERM_STATUS = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so work in progress unwinds (atomic writes drop their temporary files)."""


def raise_terminated(signum, frame):
    raise Terminated()


# module name in this package -> registers one or more subcommands
SUBCOMMAND_MODULES = ["format_cmds", "plan_cmd", "render_cmd", "watch_cmd"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="dedit", description="Declarative image editing with SDXL (DesignEdit).")
    parser.add_argument("--version", action="version", version=f"dedit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:  # a subcommand not written yet
            if exc.name and exc.name.endswith(name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, raise_terminated) if in_main_thread else None
    try:
        return int(args.func(args) or 0)
    except SceneError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except DeditError as exc:
        print(f"dedit: {exc}", file=sys.stderr)
        return exc.exit_status
    except Terminated:
        print("dedit: terminated; nothing was written.", file=sys.stderr)
        return SIGTERM_STATUS
    except KeyboardInterrupt:
        print("dedit: interrupted; nothing was written.", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
