"""Renderer notes on stderr. Renderers log what they notice (a fallback to eager UNet calls, a slow
first compile, "loading model ...") under the logger "dedit" and the library prints nothing; a command
that renders shows each note as one line on stderr, as it comes, while it runs."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator

from designedit.rendering.protocol import NOTES_LOGGER


class _StderrLines(logging.Handler):
    """Each record's message as one line on the current sys.stderr (looked up per line: tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(record.getMessage(), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging's own convention: a broken stream is reported, not raised
            self.handleError(record)


@contextmanager
def notes_on_stderr(level: int = logging.INFO) -> Iterator[None]:
    """Show renderer notes of `level` and above on stderr until the block ends."""
    logger = logging.getLogger(NOTES_LOGGER)
    handler, before = _StderrLines(level), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


def stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
