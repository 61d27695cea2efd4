"""Where the read-only shared material lives: `../shared` beside the checkout (as in CI), or wherever
DEDIT_SHARED points.

A bare clone has no such folder, and its tests still collect and run: there `SHARED`, `CONFORMANCE` and
`FIXTURES` are paths whose first use on disk (opening, listing, copying, resolving) fails the test with the
one sentence `MISSING`, so exactly the tests that read the shared files fail, each saying why, and the
others pass. Lists read from the folder at collection go through `cases`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

_WHERE = Path(os.environ.get("DEDIT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
PRESENT = (_WHERE / "conformance").is_dir() and (_WHERE / "fixtures" / "designedit-examples").is_dir()
MISSING = (f"this test reads the shared fixtures, which are not in {_WHERE} (conformance/ and "
           "fixtures/designedit-examples/): put them beside the checkout as ../shared, or set DEDIT_SHARED to their folder.")


class _Missing(type(Path())):
    """A path into the missing shared folder: joining and printing it work; using it on disk fails the test."""

    def __fspath__(self) -> str:
        pytest.fail(MISSING, pytrace=False)


SHARED = _WHERE if PRESENT else _Missing(_WHERE)
CONFORMANCE = SHARED / "conformance"
FIXTURES = SHARED / "fixtures" / "designedit-examples"


def checked(path: Path) -> Path:
    """`path` as a plain Path, for code that would convert it and lose track of where it points (designedit's
    readers do): where the shared folder is missing, the test fails here with MISSING."""
    return Path(os.fspath(path))


def cases(listing: Callable[[], Iterable[Any]]) -> list[Any]:
    """Parametrize values read from the shared folder at collection (`listing` runs only when it is there);
    without it, one placeholder case marked `shared`, which fails with MISSING (tests/conftest.py)."""
    if PRESENT:
        return list(listing())
    return [pytest.param(None, marks=pytest.mark.shared, id="shared-folder-missing")]
