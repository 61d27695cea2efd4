"""Render settings given on the command line or to the Python API, checked once, the same way everywhere.

Each check returns the value to use or raises `ArgumentError` (exit status 2,
like any bad input) with one sentence. The CLI's argparse types wrap them, so
`dedit render --steps 5000`, `dedit plan --steps 5000` and
`designedit.render(..., steps=5000)` are refused alike; the same bounds hold in
a document's `<render>` (spec/format.md 5.8).
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Integral
from typing import Any

from designedit.errors import ArgumentError


@lru_cache(maxsize=None)
def _bounds() -> dict[str, Any]:
    """The document's own bounds (model.Render), so a flag and a <render> attribute cannot disagree; read on
    first use, since the model (pydantic) is slow to import and the command line imports this module at
    start-up, before it can answer Ctrl-C in one line."""
    from designedit.model import scene as m
    from designedit.model import vocab

    return {
        "MAX_STEPS": int(vocab.field(m.Render, "steps").high[1]),
        "MAX_SEED": int(vocab.field(m.Render, "seed").high[1]) - 1,  # the model says < 2^63
        "SCHEDULES": tuple(vocab.field(m.Render, "schedule").choices),
    }


def __getattr__(name: str) -> Any:
    # only these names: the import system asks for others (`__path__`), which must not import the model
    if name in ("MAX_STEPS", "MAX_SEED", "SCHEDULES"):
        return _bounds()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_text(text: str, what: str) -> int:
    """A whole number typed on the command line (the API takes ints only: '10' there is a mistake)."""
    try:
        return int(text.strip())
    except ValueError:
        raise ArgumentError(f"{what} must be a whole number, not {text!r}.") from None


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ArgumentError(f"{what} must be a whole number, not {value!r}.")
    return int(value)


def steps(value: Any) -> int:
    n = _whole(value, "the step count")
    high = _bounds()["MAX_STEPS"]
    if not 1 <= n <= high:
        raise ArgumentError(f"the step count must be between 1 and {high}, not {n}.")
    return n


def seed(value: Any) -> int:
    n = _whole(value, "the seed")
    if not 0 <= n <= _bounds()["MAX_SEED"]:
        raise ArgumentError(f"the seed must be between 0 and 2^63 - 1, not {n}.")
    return n


def schedule(value: Any) -> str:
    if value not in _bounds()["SCHEDULES"]:
        raise ArgumentError(f"{value!r} is not a schedule; use fast or reference.")
    return value


# binary multiples for K, M, G, T (and KiB...), decimal for KB, MB, GB, TB, as their names say
_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KIB": 1024, "M": 1024**2, "MIB": 1024**2, "G": 1024**3, "GIB": 1024**3,
               "T": 1024**4, "TIB": 1024**4, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}


def byte_size(text: str, what: str) -> int:
    """A size such as 4G, 500M, 2GB or 123456 (bytes): the inversion cache's bound."""
    raw = text.strip().replace(" ", "")
    digits = raw.rstrip("BbKkMmGgTtIi")
    unit = raw[len(digits):].upper()
    try:
        number = float(digits)
    except ValueError:
        number = -1.0
    value = number * _SIZE_UNITS.get(unit, math.nan)
    if not 0 <= value < math.inf:  # also NaN: an unknown unit, or not a number
        raise ArgumentError(f"{what} must be a size such as 4G, 500M or 2GB, not {text!r}.")
    return int(value)
