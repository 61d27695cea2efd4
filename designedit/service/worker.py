"""The render queue: worker threads, each owning one renderer (a RenderSession, made once: SDXL's model is
loaded once per worker), taking jobs in the order they came.

A job runs whatever the client does meanwhile (a closed connection cancels nothing). Its scene is read
when it runs, as `dedit render` reads it: an uploaded one from the job's inputs folder (references
confined there), one named by path from the server's --root (confined there). Its problems are the
reader's and compiler's located sentences, the lines `dedit render` prints.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from designedit.errors import DeditError, Problem, RequestError, SceneError
from designedit.model.scene import Origin, Scene
from designedit.rendering.session import RenderSession
from designedit.service.jobs import INPUTS, LAYERS, RESULT, STATS, Job, JobStore, Progress, now

class JobProgress:
    """A renderer's `progress` callback that records into the job (in memory only: a status read sees it,
    the disk gets the states), including the phases a renderer tells (`phase(label, done, total)`)."""

    def __init__(self, store: JobStore, job: Job) -> None:
        self.store, self.job = store, job

    def __call__(self, done: int, total: int) -> None:
        p = self.job.progress
        self.store.update(self.job, save=False, progress=Progress(done, total, p.phase, p.phase_done, p.phase_total))

    def phase(self, label: str, done: int, total: int) -> None:
        p = self.job.progress
        self.store.update(self.job, save=False, progress=Progress(p.done, p.total, label, done, total))


def load_job_scene(path: Path, label: str, root: Path) -> Scene:
    """The scene at `path`, its problems located by `label` (the name the client gave: the uploaded file's
    or the path under --root, never the server's own folders), its references confined to `root`."""
    from designedit.io import read, read_document_bytes

    try:
        raw = read_document_bytes(path)
    except SceneError as exc:
        raise SceneError([Problem(label, p.message) for p in exc.problems]) from None
    return read(raw, label, Origin(path, path.parent, root), check_files=True).scene


class Runner:
    """Jobs waiting (at most `max_queue`) and the workers rendering them, one session each."""

    def __init__(self, store: JobStore, sessions: list[RenderSession], root: Optional[Path], max_queue: int,
                 defaults: Optional[dict[str, Any]] = None, say: Callable[[str], None] = lambda line: None) -> None:
        self.store, self.sessions, self.root, self.max_queue, self.say = store, sessions, root, max_queue, say
        self.defaults = {k: v for k, v in (defaults or {}).items() if v is not None}  # the server's --steps etc.
        self.waiting: "queue.Queue[Optional[str]]" = queue.Queue()
        self._room = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n, session in enumerate(self.sessions):
            # daemon: stopping the server does not wait for a render; the next one marks it failed
            thread = threading.Thread(target=self._work, args=(session,), name=f"dedit-render-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def check_room(self) -> None:
        """RequestError (429) when `max_queue` jobs are waiting already."""
        if self.store.count("queued") >= self.max_queue:
            raise RequestError(f"{self.max_queue} renders are waiting already, the most this server queues; "
                               "try again once some have finished.", 429)

    def enqueue(self, job: Job) -> None:
        if job.state == "queued":
            self.waiting.put(job.id)

    def stop(self) -> None:
        """End the workers once they have rendered the jobs queued before this call."""
        for _ in self._threads:
            self.waiting.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _work(self, session: RenderSession) -> None:
        while True:
            job_id = self.waiting.get()
            if job_id is None:
                return
            job = self.store.claim(job_id)
            if job is not None:  # None: deleted while it waited
                self.run(job, session)

    def run(self, job: Job, session: RenderSession) -> None:
        """Render a claimed (running) job to its folder and record how it ended."""
        started = time.perf_counter()
        warnings: list[str] = []
        try:
            result = self._render(job, session, warnings)
        except SceneError as exc:
            self._failed(job, [str(p) for p in exc.problems], exc.exit_status, warnings)
        except DeditError as exc:
            self._failed(job, [str(exc)], exc.exit_status, warnings)
        except Exception as exc:  # noqa: BLE001 - one job's failure (out of memory too) never stops the server
            print(f"dedit serve: render {job.id} failed:", file=sys.stderr)
            traceback.print_exc()
            why = f"the render failed ({type(exc).__name__}: {exc}); the server's log has the details."
            self._failed(job, [why], 1, warnings)
        else:
            from designedit.rendering.ora import layer_entries

            layers = [name for name, _, _ in layer_entries(result.layers)] if job.options.get("layers", True) else []
            self.store.update(job, state="done", finished=now(), stats=result.stats, warnings=warnings, layers=layers,
                              exit_status=0)
            self.say(f"render {job.id} done in {time.perf_counter() - started:.2f} s ({job.scene})")

    def _render(self, job: Job, session: RenderSession, warnings: list[str]):
        folder = self.store.folder(job.id)
        if job.source == "upload":
            inputs = folder / INPUTS
            scene = load_job_scene(inputs / job.scene, job.scene, inputs)
        else:
            if self.root is None:  # a job from a server that had --root; this one has none
                raise DeditError("this server has no --root, so it cannot read a scene named by path.")
            scene = load_job_scene(self.root / job.scene, job.scene, self.root)
        opts = {**self.defaults, **job.options}
        return session.render(
            scene,
            output=folder / RESULT,
            schedule=opts.get("schedule"),
            steps=opts.get("steps"),
            seed=opts.get("seed"),
            layers_dir=folder / LAYERS if opts.get("layers", True) else None,
            stats_path=folder / STATS,
            progress=JobProgress(self.store, job),
            warn=warnings.append,
        )

    def _failed(self, job: Job, problems: list[str], status: int, warnings: list[str]) -> None:
        self.store.update(job, state="failed", finished=now(), problems=problems, exit_status=status, warnings=warnings)
        self.say(f"render {job.id} failed ({job.scene}): {problems[0]}")
