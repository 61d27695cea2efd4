"""A batch in this process: one renderer, one loaded model, one inversion cache, scene after scene."""

from __future__ import annotations

from typing import Callable, Sequence

from designedit.batch.jobs import Job, Outcome, Settings, render_job


def run_serial(session, jobs: Sequence[Job], settings: Settings, report: Callable[[Outcome], None]) -> None:
    """Render every job on `session` (a RenderSession), reporting each outcome as it comes."""
    for job in jobs:
        outcome, _ = render_job(session, job, settings)
        report(outcome)
