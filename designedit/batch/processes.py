"""A batch of preview renders in parallel processes (`--jobs N`).

Each worker process starts its own preview renderer once and renders, and writes atomically, the jobs it is
given; the preview is deterministic, so the pixels are those of a serial run. Workers ignore Ctrl-C: the
command's process catches it, lets each worker finish (and write whole) the scene it has, and starts no
other.
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Sequence

from designedit.batch.jobs import Job, Outcome, Settings, render_job
from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions

_session = None  # the worker's own RenderSession


def _start(renderer: str, options: RenderOptions) -> None:
    global _session
    from designedit.rendering.session import RenderSession

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _session = RenderSession(renderer, options)


def _work(job: Job, settings: Settings) -> Outcome:
    return render_job(_session, job, settings)[0]


def run_processes(renderer: str, options: RenderOptions, jobs: Sequence[Job], settings: Settings, workers: int,
                  report: Callable[[Outcome], None]) -> None:
    # spawn, not fork: a worker inherits no threads, locks or signal handlers of the command
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_start,
                               initargs=(renderer, options))
    futures = [pool.submit(_work, job, settings) for job in jobs]
    reported: set = set()
    try:
        for future in as_completed(futures):
            reported.add(future)
            report(future.result())
    except BrokenProcessPool:
        raise DeditError("a worker process of --jobs died (out of memory?); the scenes not reported above were not "
                         "rendered.") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a scene being rendered is finished and written, whole
        for future in futures:  # stopped (Ctrl-C): what the workers finished meanwhile is said too
            if future not in reported and future.done() and not future.cancelled() and future.exception() is None:
                report(future.result())
