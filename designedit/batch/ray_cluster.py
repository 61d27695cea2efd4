"""A batch over a Ray cluster (`dedit render --ray [ADDRESS]`).

One renderer actor per GPU for a renderer that runs a model on a cluster with GPUs, else one per CPU slot
(`--jobs N` caps the count), each starting its renderer (loading the model) once. The driver loads and
checks every scene and its destination first (a bad one is reported at once, located, and never sent),
hands the jobs out as actors become free, and writes each picture it gets back through Ray's object store
atomically, where the scene says: the pixels are the serial run's (on a CPU, each actor computes with
as many threads as this process would: $OMP_NUM_THREADS, else the CPU count). Actors read the scene and its pictures
at the paths the driver names: every node must see them there (one machine, or a shared filesystem).

Ray is optional (`pip install 'designedit[ray]'`); without it `--ray` is refused in one sentence.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Optional, Sequence

from designedit.batch.jobs import OK, Job, Outcome, Settings, failure, load, render_job
from designedit.errors import DeditError, UsageError
from designedit.rendering.protocol import RenderOptions

NO_RAY = "--ray needs Ray, which is not installed (pip install 'designedit[ray]')."
MODEL_RENDERERS = {"sdxl"}  # renderers whose actors each take a GPU where the cluster has them


def import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError(NO_RAY) from None
    return ray


class RendererActor:
    """One renderer (one loaded model) in a Ray worker; renders without writing."""

    def __init__(self, renderer: str, options: RenderOptions) -> None:
        from designedit.rendering.session import RenderSession

        self.session = RenderSession(renderer, options)

    def render(self, job: Job, settings: Settings) -> tuple[Outcome, Optional[tuple[Any, dict]]]:
        outcome, result = render_job(self.session, job, settings, write=False)
        return outcome, (None if result is None else (result.image, result.metadata))


def actor_count(resources: dict, renderer: str, wanted: Optional[int], jobs: int) -> tuple[int, dict]:
    """How many actors, and each one's resources."""
    gpus = int(resources.get("GPU", 0))
    if renderer in MODEL_RENDERERS and gpus > 0:
        count, each = gpus, {"num_gpus": 1}
    else:
        count, each = max(1, int(resources.get("CPU", 1))), {"num_cpus": 1}
    if wanted:
        count = min(count, wanted)
    return max(1, min(count, jobs)), each


def run_ray(address: Optional[str], renderer: str, options: RenderOptions, jobs: Sequence[Job], settings: Settings,
            workers: Optional[int], report: Callable[[Outcome], None]) -> None:
    """Render `jobs` on a Ray cluster at `address` (None or "": RAY_ADDRESS, else a local one started here and
    stopped at the end; an already initialised Ray is used as it is)."""
    from designedit.rendering.session import check_destinations

    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address or None, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:  # no cluster there, a malformed address
            where = f"at {address}" if address else "($RAY_ADDRESS, else a local one)"
            reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
            raise DeditError(f"Ray could not be started or reached {where}: {reason}.") from None
    actors: list = []
    try:
        ready: list[tuple[Job, Any]] = []
        for job in jobs:  # bad documents and destinations are the driver's to find, before any actor works
            began = time.perf_counter()
            try:
                scene, output = load(job, settings)
                check_destinations(scene, output)
            except Exception as exc:  # noqa: BLE001 - reported per scene, the others go on
                report(failure(job.label, exc, began))
                continue
            ready.append((job, output))
        if not ready:
            return
        count, each = actor_count(ray.cluster_resources(), renderer, workers, len(ready))
        remote = ray.remote(RendererActor)
        # on a CPU a render's sums depend on how many threads share them: an actor gets this process's thread
        # count (Ray would give it one per CPU it holds), so its pixels are the serial run's
        threads = os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count() or 1)
        env = {"env_vars": {"OMP_NUM_THREADS": threads}}
        actors = [remote.options(**each, runtime_env=env).remote(renderer, options) for _ in range(count)]
        _dispatch(ray, actors, ready, settings, report)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started_here:
            ray.shutdown()


def _dispatch(ray, actors: list, ready: list[tuple[Job, Any]], settings: Settings,
              report: Callable[[Outcome], None]) -> None:
    from ray.exceptions import RayActorError, RayError

    from designedit.rendering.outputs import write_png

    idle, queue, pending = list(actors), list(ready), {}
    while queue or pending:
        while idle and queue:
            job, output = queue.pop(0)
            actor = idle.pop()
            pending[actor.render.remote(job, settings)] = (job, output, actor, time.perf_counter())
        if not pending:  # every actor died: the rest fail with the reason
            for job, _ in queue:
                report(failure(job.label, DeditError("no Ray worker is left to render it."), time.perf_counter()))
            return
        (ref,), _ = ray.wait(list(pending), num_returns=1)
        job, output, actor, began = pending.pop(ref)
        try:
            outcome, picture = ray.get(ref)
        except RayError as exc:
            if not isinstance(exc, RayActorError):
                idle.append(actor)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            report(failure(job.label, DeditError(f"the Ray worker failed: {reason}"), began))
            continue
        idle.append(actor)
        if outcome.status == OK and picture is not None:
            try:
                write_png(output, picture[0], picture[1])
            except Exception as exc:  # noqa: BLE001 - a destination that failed after the check
                outcome = failure(job.label, exc, began)
            else:
                outcome.output = str(output)
                outcome.seconds = time.perf_counter() - began
        report(outcome)
