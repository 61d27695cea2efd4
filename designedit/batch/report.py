"""What a batch says: one line per scene on stdout as it finishes, its problems and warnings on stderr,
a bar over the scenes on a terminal, a closing summary, and the exit status.

Exit status: 0 when every scene rendered; 1 when any scene failed for another reason than its input (no
model, out of memory, a renderer error), even if others were bad input too: fixing the inputs would not be
enough; else 2 when any document, picture, manifest row or destination was bad.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, Sequence

from designedit.batch.jobs import BAD_INPUT, OK, Outcome


def exit_status(outcomes: Sequence[Outcome]) -> int:
    statuses = {o.status for o in outcomes}
    if statuses - {OK, BAD_INPUT}:
        return 1
    return BAD_INPUT if BAD_INPUT in statuses else OK


def line(outcome: Outcome) -> str:
    if outcome.status == OK:
        return f"ok      {outcome.label} -> {outcome.output} ({outcome.detail}) in {outcome.seconds:.2f} s"
    word = "bad" if outcome.status == BAD_INPUT else "failed"
    return f"{word:<7} {outcome.label} in {outcome.seconds:.2f} s ({len(outcome.problems)} problem{'s' if len(outcome.problems) != 1 else ''} below)"


class Reporter:
    """Prints each outcome as it arrives and keeps them; `bar` over `total` scenes on a terminal."""

    def __init__(self, total: int, stream=None, errors=None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.errors = errors if errors is not None else sys.stderr
        self.outcomes: list[Outcome] = []
        self.started = time.monotonic()
        self.bar = None
        if _is_terminal(self.errors):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="scenes", unit="scene", file=self.errors, delay=1.0)

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self._say(line(outcome), self.stream)
        for sentence in outcome.warnings:
            self._say(f"warning: {outcome.label}: {sentence}", self.errors)
        for problem in outcome.problems:
            self._say(f"  {problem}", self.errors)
        if self.bar is not None:
            self.bar.update(1)

    def _say(self, text: str, stream) -> None:
        if self.bar is not None:
            self.bar.write(text, file=stream)
        else:
            print(text, file=stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def written(self) -> list[str]:
        return [o.output for o in self.outcomes if o.status == OK and o.output]

    def summary(self) -> str:
        done = sum(o.status == OK for o in self.outcomes)
        bad = sum(o.status == BAD_INPUT for o in self.outcomes)
        failed = len(self.outcomes) - done - bad
        parts = [f"{done} of {self.total} rendered in {time.monotonic() - self.started:.2f} s"]
        if bad:
            parts.append(f"{bad} bad input")
        if failed:
            parts.append(f"{failed} failed")
        return "batch: " + "; ".join(parts)


def _is_terminal(stream: Optional[object]) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        return False
