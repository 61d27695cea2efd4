"""One SDXL render's progress, as the `progress` callback of Renderer.render receives it."""

from __future__ import annotations

from typing import Callable, Optional


class Ticks:
    """`progress(done, total)`: `total` fixed up front (images inverted x steps, plus the plan steps
    denoising runs), `done` counted up as each inversion step (per image) and each plan step ends. Told
    (0, total) at once so a bar covers the first, slow step too. A callback that has a
    `phase(label, done, total)` method (designedit.rendering.session.Progress) is also told each phase
    with its own count, one per tick: inversion counts its steps (all pictures at once), denoising the
    plan steps it runs."""

    def __init__(self, progress: Optional[Callable[[int, int], None]], total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.label, self.phase_total, self.phase_done = "", 0, 0
        if progress is not None:
            progress(0, total)

    def phase(self, label: str, total: int) -> None:
        self.label, self.phase_total, self.phase_done = label, total, 0
        self._tell_phase()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self.phase_done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
        self._tell_phase()

    def _tell_phase(self) -> None:
        tell = getattr(self.progress, "phase", None)
        if tell is not None and self.label:
            tell(self.label, self.phase_done, self.phase_total)
