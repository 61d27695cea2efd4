"""Run a batch where it is asked to run: in this process, in worker processes (`--jobs N`, the preview
only) or over Ray (`--ray`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Optional, Sequence

from designedit.batch.jobs import Job, Outcome, Settings
from designedit.errors import UsageError
from designedit.rendering.protocol import RenderOptions

PARALLEL_RENDERERS = {"preview"}  # cheap to start once per process; a model renderer shares one in-process


def run_batch(renderer: str, options: RenderOptions, jobs: Sequence[Job], settings: Settings,
              report: Callable[[Outcome], None], workers: int = 1, ray_address: Optional[str] = None,
              announce: Optional[Callable[[str], None]] = None) -> None:
    """Render every job, reporting each outcome as it comes. `ray_address` not None: over Ray ("" for
    $RAY_ADDRESS or a local cluster), `workers` capping its actors; else `workers` > 1 runs preview renders
    in that many processes."""
    from designedit.rendering.select import choose_renderer

    if ray_address is not None:
        from designedit.batch.ray_cluster import import_ray, run_ray

        import_ray()  # said before any renderer is chosen or loaded
        choice = choose_renderer(renderer, options, check=True)
        if announce is not None:
            announce(choice.line)
        quiet = replace(choice.options, progress=False)
        run_ray(ray_address, choice.name, quiet, jobs, settings, workers if workers > 1 else None, report)
        return
    if workers > 1 and len(jobs) > 1:
        choice = choose_renderer(renderer, options, check=True)
        if choice.name not in PARALLEL_RENDERERS:
            raise UsageError(f"--jobs runs preview renders in parallel; the {choice.name} renderer renders a batch "
                             "in one process, on one loaded model (leave --jobs out).")
        if announce is not None:
            announce(choice.line)
        from designedit.batch.processes import run_processes

        run_processes(choice.name, replace(choice.options, progress=False), jobs, settings, workers, report)
        return
    from designedit.batch.serial import run_serial
    from designedit.rendering.session import RenderSession

    session = RenderSession(renderer, options, announce=announce)
    run_serial(session, jobs, settings, report)
