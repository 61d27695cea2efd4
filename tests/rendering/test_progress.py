"""The command line's progress display (designedit.rendering.session.Progress): phases with their own counts, a bar on
a terminal, a line at each tenth elsewhere, nothing for work that ends at once."""

from __future__ import annotations

import io

from designedit.rendering.session import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_phases(progress: Progress, phases: list[tuple[str, int]]) -> None:
    """As the SDXL renderer reports: the whole (done, total), then each phase's own count."""
    total, done = sum(n for _, n in phases), 0
    progress(0, total)
    for label, n in phases:
        progress.phase(label, 0, n)
        for k in range(1, n + 1):
            done += 1
            progress(done, total)
            progress.phase(label, k, n)
    progress.close()


def test_away_from_a_terminal_each_phase_says_each_tenth_of_its_own_count():
    log = io.StringIO()
    run_phases(Progress("sdxl render", stream=log, delay=0), [("inverting 2 pictures", 50), ("denoising", 50)])
    lines = log.getvalue().splitlines()
    assert lines == ([f"sdxl render: inverting 2 pictures: step {k} of 50" for k in range(5, 51, 5)]
                     + [f"sdxl render: denoising: step {k} of 50" for k in range(5, 51, 5)])


def test_a_short_phase_says_every_step_and_a_renderer_without_phases_its_whole_count():
    log = io.StringIO()
    run_phases(Progress("sdxl render", stream=log, delay=0), [("denoising from step 4 (a remembered branch state)", 3)])
    assert log.getvalue().splitlines() == [f"sdxl render: denoising from step 4 (a remembered branch state): step {k} of 3"
                                           for k in (1, 2, 3)]
    whole = io.StringIO()
    progress = Progress("preview render", stream=whole, delay=0)
    for k in range(4):
        progress(k, 3)
    assert whole.getvalue().splitlines() == [f"preview render: step {k} of 3" for k in (1, 2, 3)]


def test_on_a_terminal_each_phase_has_its_own_bar():
    screen = Terminal()
    run_phases(Progress("sdxl render", stream=screen, delay=0), [("inverting 1 picture", 10), ("denoising", 10)])
    drawn = screen.getvalue()
    assert "sdxl render: inverting 1 picture" in drawn and "sdxl render: denoising" in drawn
    assert "0/10" in drawn and "/20" not in drawn  # each bar counts its own phase, not the sum
    assert "step 1 of" not in drawn  # bars, not lines


def test_work_that_ends_before_the_delay_shows_nothing():
    for stream in (io.StringIO(), Terminal()):
        run_phases(Progress("sdxl render", stream=stream, delay=3600), [("inverting 1 picture", 10), ("denoising", 10)])
        assert stream.getvalue() == ""
