"""The project's error types, all of them here (every module raises these; none defines its own).

Bad input (a document, a picture it names, a flag) raises `SceneError`, which
carries every problem found, each with a location and one plain sentence. The
CLI prints them one per line and exits with status 2. The other kinds of bad
input are one sentence each, also status 2: `PictureError` (a picture, before
its location is known), `ArgumentError` (a setting given to a command or the
API; `UsageError` when the command line itself is wrong) and `DestinationError`
(an output that cannot be written). Anything else that can go wrong at run time
(no model, interrupted render) is a `DeditError`: one sentence, exit status 1.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Union


class DeditError(Exception):
    """A failure that is not the document's fault; its message is one sentence."""

    exit_status = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document.

    `location` is already formatted for people: `file:line:col` for XML,
    `file#/json/pointer` for JSON, or just `file` when nothing finer is known.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SceneError(DeditError):
    """A document (or what it references) is invalid; holds every problem found."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PictureError(DeditError):
    """A picture cannot be used; the message is one sentence (callers attach the location: `located`).

    It is bad input, like a bad document: exit status 2."""

    exit_status = 2


class ArgumentError(DeditError):
    """A setting given to a command or to the API that cannot work: exit status 2."""

    exit_status = 2


class UsageError(ArgumentError):
    """Command-line input that cannot work (found by dedit rather than argparse): exit status 2 (an
    ArgumentError's), like argparse's own usage errors."""


class RequestError(ArgumentError):
    """A request to one of dedit's HTTP servers that cannot be served (an upload too large, a picture the scene
    does not name, a full queue): one sentence, and the HTTP status that answers it."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status


class DestinationError(DeditError):
    """An output path that cannot be used, found before any rendering: bad input, exit status 2."""

    exit_status = 2


class GestureRefused(DeditError):
    """A studio gesture that cannot be written into the scene file (`status`: the HTTP status it answers:
    404 no such layer, 409 the file changed or cannot be read as a document, 422 a gesture that cannot work)."""

    def __init__(self, sentence: str, status: int = 409) -> None:
        super().__init__(sentence)
        self.status = status


class Superseded(DeditError):
    """A render stopped because a newer change to its inputs arrived (the studio renders that instead)."""


@contextmanager
def located(location: Union[str, Callable[[], str]], where: str = "") -> Iterator[None]:
    """Run the block; a `PictureError` it raises becomes a `SceneError` at `location` (a callable is asked
    only then: finding a place in the document costs a lookup), its sentence after `where: ` when given."""
    try:
        yield
    except PictureError as exc:
        at = location() if callable(location) else location
        raise SceneError(Problem(at, f"{where}: {exc}" if where else str(exc))) from None
