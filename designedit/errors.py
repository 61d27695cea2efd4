"""The project's error types.

Bad input (a document, a picture it names) raises `SceneError`, which carries
every problem found, each with a location and one plain sentence; the CLI
prints them one per line and exits with status 2. A setting that cannot work
(a flag, an API argument) raises `ArgumentError`, also status 2. Anything else that can
go wrong at run time (no model, interrupted render) is a `DeditError`: one
sentence, exit status 1.
"""

from __future__ import annotations

from dataclasses import dataclass


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


class ArgumentError(DeditError):
    """A setting given to a command or to the API that cannot work (a flag, a keyword argument, a model
    path): exit status 2."""

    exit_status = 2


class SceneError(DeditError):
    """A document (or what it references) is invalid; holds every problem found."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
