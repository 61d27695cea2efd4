"""Subcommands as data: a table of `Command`s, each with its `argument`s, registered by `add_commands`. A
module of this package whose commands take only plain arguments writes them this way (`format_cmds`); its
`register(subparsers)` is then `add_commands(subparsers, ITS_TABLE)`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Argument:
    """One `add_argument` call: its names and its keywords."""

    names: tuple[str, ...]
    options: dict[str, Any]


def argument(*names: str, **options: Any) -> Argument:
    return Argument(names, options)


@dataclass(frozen=True)
class Command:
    """One subcommand: what `dedit --help` says of it, what its own help says, its arguments, what runs it."""

    name: str
    summary: str
    description: str
    arguments: tuple[Argument, ...]
    run: Callable[[argparse.Namespace], int]


def add_commands(subparsers: argparse._SubParsersAction, commands: tuple[Command, ...]) -> None:
    for command in commands:
        parser = subparsers.add_parser(command.name, help=command.summary, description=command.description)
        for spec in command.arguments:
            parser.add_argument(*spec.names, **spec.options)
        parser.set_defaults(func=command.run)


def bounded(convert: Callable[[str], Any], low: float, high: float, not_a: str, outside: str) -> Callable[[str], Any]:
    """An argparse type: `convert(text)` from `low` to `high`, else one sentence: `not_a` when it does not
    convert, `outside` when it is out of range (both formatted with `text` and, for `outside`, `value`)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(not_a.format(text=text)) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(outside.format(text=text, value=value))
        return value

    return parse
