"""`dedit`: the command line. Each subcommand lives in its own module with a
`register(subparsers)` that adds its parser and sets `func(args) -> int`.

Exit statuses: 0 done; 2 bad input (a usage error, an invalid document, an
output that cannot be written, found before any work); 1 any other failure
(no model, out of memory: one sentence, never a traceback); 130 interrupted
(Ctrl-C); 143 terminated (SIGTERM), which unwinds like Ctrl-C so nothing is
half-written, start-up included.

Once a command starts committing its results (just before the rename that
makes its first output visible: `hold_signals`, called through
`RenderSession.render(on_commit=)` and `atomic.before_commit`), Ctrl-C and
SIGTERM are held instead: the command finishes writing, says in one line that
the signal came once the results were being written, and exits with its own
status (0): a result that is complete is never reported as interrupted or
failed. A signal after `main` has decided the
program's exit status changes nothing either.

$DEDIT_DEBUG_PAUSE=POINT makes dedit wait at POINT for a signal (for tests:
`debug_pause`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Iterator, Optional

from designedit.errors import DeditError, SceneError


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


SIGINT_STATUS = 128 + signal.SIGINT
SIGTERM_STATUS = 128 + signal.SIGTERM
DEBUG_PAUSE_ENV = "DEDIT_DEBUG_PAUSE"


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so work in progress unwinds (atomic writes drop their temporary files)."""


class StopSignals:
    """How the command line answers SIGINT and SIGTERM: by unwinding (KeyboardInterrupt, or Terminated for
    SIGTERM) until `hold` is called, then by noting the signal (`caught`) and carrying on."""

    def __init__(self) -> None:
        self.holding = False
        self.caught: Optional[int] = None  # the first signal that arrived while holding

    def __call__(self, signum: int, frame) -> None:
        if self.holding:
            self.caught = self.caught or signum
            return
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def hold(self) -> None:
        self.holding = True


_active: Optional[StopSignals] = None  # the handler `signals_unwind` installed, while it is installed


@contextmanager
def signals_unwind(program: bool = False) -> Iterator[Optional[StopSignals]]:
    """Inside: SIGINT and SIGTERM unwind (KeyboardInterrupt, Terminated) until `hold_signals()`. On leaving,
    the previous handlers come back, and a signal held meanwhile is raised again for them; with `program`
    (main() as the process's entry point, which only exits afterwards) the handler stays, holding, so a
    signal after the exit status is decided cannot change it. A signal its parent ignored (a background
    job's SIGINT) stays ignored. Signal handlers can only be set from the main thread, so called from
    another (an embedding program's worker), or inside another `signals_unwind`, this changes nothing."""
    global _active
    if _active is not None or threading.current_thread() is not threading.main_thread():
        yield _active
        return
    handler = StopSignals()
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    _active = handler
    try:
        yield handler
    finally:
        if program:  # the process exits next: the handler stays, holding
            handler.hold()
        else:
            _active = None
            for signum, old in previous.items():
                signal.signal(signum, old)
            if handler.caught is not None:
                signal.raise_signal(handler.caught)


def hold_signals() -> None:
    """From now on, until the command returns, SIGINT and SIGTERM are noted instead of raised: called once
    a command starts committing its results (just before the rename that makes its first output visible),
    so that a complete result is never reported as interrupted, nor turned into a failure. Outside
    `signals_unwind` (the Python API, another thread), nothing to do."""
    if _active is not None:
        _active.hold()


def debug_pause(point: str) -> None:
    """For tests that send a signal at an exact moment: with $DEDIT_DEBUG_PAUSE=POINT, say `dedit: paused at
    POINT` on stderr and wait there (at most a minute) until a signal arrives. The points: `startup` (main
    before anything is imported for the command), `written` (`render`, its files written, before its status
    line) and `exit` (main's exit status decided, the program about to exit)."""
    if os.environ.get(DEBUG_PAUSE_ENV) != point:
        return
    print(f"dedit: paused at {point}", file=sys.stderr, flush=True)
    handler, deadline = _active, time.monotonic() + 60
    while time.monotonic() < deadline and (handler is None or handler.caught is None):
        time.sleep(0.01)  # an unwinding signal raises out of here; a held one ends the wait


def stopped_line(stop: BaseException) -> str:
    """What `main` says when Ctrl-C or SIGTERM stops a command: nothing was written, or (`fmt`, which sets
    `rewritten` on the exception) which files were already rewritten, whole, before it."""
    word = "terminated" if isinstance(stop, Terminated) else "interrupted"
    done = getattr(stop, "rewritten", None)
    if done:
        files = "1 file" if len(done) == 1 else f"{len(done)} files"
        verb = getattr(stop, "verb", "rewriting")  # a batch render sets "writing"
        return f"dedit: {word} after {verb} {files} (listed above); nothing else was written."
    return f"dedit: {word}; nothing was written."


# command -> the module of this package that registers it (`register(subparsers)`). A command line that
# starts with a command imports that module only: `dedit validate` (a pre-commit hook) never pays for what
# `render` imports. Help and unknown commands register them all, in this order.
COMMANDS = {"validate": "format_cmds", "convert": "format_cmds", "fmt": "format_cmds",
            "plan": "plan_cmd", "render": "render_cmd", "watch": "watch_cmd", "masks": "masks_cmd",
            "draft": "draft_cmd", "serve": "serve_cmd",
            "import": "import_cmd", "studio": "studio_cmd"}


def build_parser(argv: Optional[list[str]] = None) -> argparse.ArgumentParser:
    """The parser for `argv`: every command's, or (`argv` starting with a command) that command's alone."""
    from designedit.version import __version__

    parser = argparse.ArgumentParser(prog="dedit", description="Declarative, training-free image editing (the DesignEdit method) with installed renderers.")
    parser.add_argument("--version", action="version", version=f"dedit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = [COMMANDS[argv[0]]] if argv and argv[0] in COMMANDS else COMMANDS.values()
    for name in dict.fromkeys(wanted):
        try:
            module = import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:  # a subcommand not written yet
            if exc.name and exc.name.endswith(name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status. `argv=None` (the `dedit` program, `python -m designedit`): the
    process's own arguments, and main is the process's entry point, which exits once it returns."""
    program = argv is None
    with signals_unwind(program=program) as signals:
        status = _run(argv)
        if program:
            hold_signals()  # the status is decided: a signal from here on changes nothing
        if signals is not None and signals.caught is not None and status == 0:
            print(held_line(signals.caught), file=sys.stderr, flush=True)
    if program:
        debug_pause("exit")
    return status


def held_line(signum: int) -> str:
    """What main says of a signal that arrived once the results were being written (it waited for them)."""
    word = "terminated" if signum == signal.SIGTERM else "interrupted"
    return f"dedit: {word} once the results were being written; they were all written, whole."


def _run(argv: list[str] | None) -> int:
    try:
        debug_pause("startup")
        argv = sys.argv[1:] if argv is None else argv
        parser = build_parser(argv)  # imports the command's module: start-up is covered too
        args = parser.parse_args(argv)
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
        return SIGTERM_STATUS if isinstance(stop, Terminated) else SIGINT_STATUS
    except Exception as exc:  # noqa: BLE001 - only memory exhaustion is answered here; the rest propagates
        if not _out_of_memory(exc):
            raise
        print(out_of_memory_line(exc), file=sys.stderr)  # one place: a traceback would say nothing more
        return 1


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, OpenCV's "Insufficient memory" (a cv2.error with code -4, StsNoMem), or a GPU's (torch's
    OutOfMemoryError, known by its module and name: the core never imports torch)."""
    kind = type(exc)
    return (isinstance(exc, MemoryError) or _opencv_out_of_memory(exc)
            or (kind.__module__.partition(".")[0] == "torch" and kind.__name__ == "OutOfMemoryError"))


def _opencv_out_of_memory(exc: BaseException) -> bool:
    return type(exc).__module__ == "cv2" and getattr(exc, "code", None) == -4


def out_of_memory_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError) or _opencv_out_of_memory(exc):
        return ("dedit: out of memory: the command needed more memory than this machine could give "
                "(a smaller canvas, or fewer masks, need less).")
    return ("dedit: out of memory on the GPU: the render needed more than it could give "
            "(--offload, a smaller canvas or --dtype fp16 need less).")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
