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
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Iterator

from ..arguments import ArgumentError
from ..errors import DeditError, SceneError


class UsageError(ArgumentError):
    """Command-line input that cannot work (found by dedit rather than argparse): exit status 2 (an
    ArgumentError's), like argparse's own usage errors."""


def readable_type(name: str):
    """Give an argparse `type=` function a readable name: argparse quotes `__name__` in its messages."""

    def rename(function):
        function.__name__ = name
        return function

    return rename


def file_name_type(suffix: str, what: str, why: str):
    """An argparse type for an output file name that must end in `suffix` (".png"); `what` names it ("a .png
    file name") and `why` says why it must."""

    @readable_type(what)
    def file_name(text: str) -> Path:
        if not text.lower().endswith(suffix):
            raise argparse.ArgumentTypeError(f"{text} is not {what} ({why})")
        return Path(text)

    return file_name


SIGTERM_STATUS = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so work in progress unwinds (atomic writes drop their temporary files)."""


def raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Inside: SIGTERM raises Terminated. Signal handlers can only be set from the main thread, so called
    from another (an embedding program's worker) this changes nothing instead of raising ValueError."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stopped_line(stop: BaseException) -> str:
    """What `main` says when Ctrl-C or SIGTERM stops a command: nothing was written, or (`fmt`, which sets
    `rewritten` on the exception) which files were already rewritten, whole, before it."""
    word = "terminated" if isinstance(stop, Terminated) else "interrupted"
    done = getattr(stop, "rewritten", None)
    if done:
        files = "1 file" if len(done) == 1 else f"{len(done)} files"
        return f"dedit: {word} after rewriting {files} (listed above); nothing else was written."
    return f"dedit: {word}; nothing was written."


OUT_OF_MEMORY = "dedit: out of memory: this needs more memory than the machine has free (a smaller canvas, or fewer large masks and layers, needs less)."


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says memory ran out: Python's (and numpy's) MemoryError, OpenCV's allocation failure
    (cv2.error with code -4, StsNoMem) or PyTorch's; told apart by name, so nothing heavy is imported."""
    if isinstance(exc, MemoryError):
        return True
    kind = type(exc)
    package = kind.__module__.partition(".")[0]
    if package == "cv2":
        return kind.__name__ == "error" and getattr(exc, "code", None) == -4
    return package == "torch" and kind.__name__ == "OutOfMemoryError"


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
    with sigterm_unwinds():
        try:
            return int(args.func(args) or 0)
        except SceneError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 2
        except DeditError as exc:
            print(f"dedit: {exc}", file=sys.stderr)
            return exc.exit_status
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM as Terminated
            print(stopped_line(stop), file=sys.stderr)
            return SIGTERM_STATUS if isinstance(stop, Terminated) else 130
        except Exception as exc:  # out of memory: one sentence and status 1, never a traceback
            if not out_of_memory(exc):
                raise
            print(OUT_OF_MEMORY, file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
