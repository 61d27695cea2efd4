"""Render jobs and their folders under the jobs directory.

Each job is a folder named by its id (unguessable: 128 random bits, URL-safe):

    <jobs-dir>/<id>/status.json     the job's status, as GET /v1/renders/{id} answers it
    <jobs-dir>/<id>/inputs/         an uploaded scene and its pictures (absent for a scene named by path)
    <jobs-dir>/<id>/result.png      the picture, once done
    <jobs-dir>/<id>/stats.json      the render statistics, once done
    <jobs-dir>/<id>/layers/         background.png, layer-<id>.png and result.ora, once done (unless not asked)

Every file is written atomically (rendering.atomic), the status last, so a status that says `done` always
has its results whole beside it. A server that starts again over the same folder lists every job it finds;
one that was queued or running when the last server stopped is marked failed, with a problem that says so
(it is not run again: a scene named by path may have changed since).
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from designedit.errors import DeditError
from designedit.rendering.outputs import write_json

STATES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")
STATUS_FILE = "status.json"
INPUTS = "inputs"
RESULT = "result.png"
STATS = "stats.json"
LAYERS = "layers"
ORA = "result.ora"  # rendering.ora names the stack after the picture: result.png -> result.ora

_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)


def new_id() -> str:
    return secrets.token_urlsafe(16)


def is_job_id(text: str) -> bool:
    """Only a well-formed id is ever joined to the jobs folder (no other name can reach a path)."""
    return bool(_ID.match(text))


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Progress:
    """How far a running render is: `done` of `total` steps overall, and the renderer's current phase
    (SDXL: "inverting 2 pictures", "denoising") with its own count, when it tells one."""

    done: int = 0
    total: int = 0
    phase: Optional[str] = None
    phase_done: int = 0
    phase_total: int = 0

    def as_json(self) -> dict[str, Any]:
        fraction = self.done / self.total if self.total > 0 else 0.0
        return {"done": self.done, "total": self.total, "fraction": round(fraction, 4), "phase": self.phase,
                "phase_done": self.phase_done, "phase_total": self.phase_total}


@dataclass
class Job:
    """One render request and what became of it. `scene` is how problems name the document (the uploaded
    file's name, or the path under --root); `source` is "upload" or "path"."""

    id: str
    source: str
    scene: str
    options: dict[str, Any]
    state: str = "queued"
    submitted: str = field(default_factory=now)
    started: Optional[str] = None
    finished: Optional[str] = None
    progress: Progress = field(default_factory=Progress)
    problems: list[str] = field(default_factory=list)
    exit_status: Optional[int] = None  # as `dedit render` would exit: 2 bad input, 1 another failure
    warnings: list[str] = field(default_factory=list)
    stats: Optional[dict[str, Any]] = None
    layers: list[str] = field(default_factory=list)
    version: int = 0  # counts changes, so a stream of events sends each state once

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "state": self.state, "source": self.source, "scene": self.scene, "options": self.options,
            "submitted": self.submitted, "started": self.started, "finished": self.finished,
            "progress": self.progress.as_json(), "problems": list(self.problems), "exit_status": self.exit_status,
            "warnings": list(self.warnings), "stats": self.stats, "layers": list(self.layers),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Job":
        progress = data.get("progress") or {}
        return cls(
            id=data["id"], source=data["source"], scene=data["scene"], options=dict(data.get("options") or {}),
            state=data["state"], submitted=data.get("submitted") or now(), started=data.get("started"),
            finished=data.get("finished"),
            progress=Progress(**{k: progress[k] for k in ("done", "total", "phase", "phase_done", "phase_total") if k in progress}),
            problems=list(data.get("problems") or []), exit_status=data.get("exit_status"),
            warnings=list(data.get("warnings") or []), stats=data.get("stats"), layers=list(data.get("layers") or []),
        )


class JobStore:
    """The jobs under one folder, in memory and on disk; safe to use from the worker threads and the server's
    request handlers at once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._hold = _lock_folder(self.root)  # one server per folder: another would fail this one's jobs
        self._jobs: dict[str, Job] = {}
        self._lock = threading.RLock()
        self.recovered: list[str] = []  # ids of the jobs a previous server left unfinished (now failed)

    def close(self) -> None:
        """Let another store open this folder (the lock is released)."""
        if self._hold is not None:
            self._hold.close()
            self._hold = None

    def folder(self, job_id: str) -> Path:
        if not is_job_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def add(self, job: Job) -> None:
        """Make a new job known and save its status (its folder and inputs are written before)."""
        with self._lock:
            self._jobs[job.id] = job
            self.save(job)

    def get(self, job_id: str) -> Optional[Job]:
        with self._lock:
            return self._jobs.get(job_id) if is_job_id(job_id) else None

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: (j.submitted, j.id))

    def count(self, state: str) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.state == state)

    def update(self, job: Job, save: bool = True, **changes: Any) -> dict[str, Any]:
        """Change a job's fields under the lock; saved to disk unless `save` is False (progress ticks)."""
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)
            job.version += 1
            if save:
                self.save(job)
            return job.as_json()

    def snapshot(self, job: Job) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return job.version, job.as_json()

    def save(self, job: Job) -> None:
        with self._lock:
            write_json(self.folder(job.id) / STATUS_FILE, job.as_json())

    def claim(self, job_id: str) -> Optional[Job]:
        """The queued job `job_id`, now running (saved so), for a worker; None when it is gone (deleted)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state != "queued":
                return None
            self.update(job, state="running", started=now())
            return job

    def delete(self, job_id: str) -> Optional[str]:
        """Forget a job and remove its folder, unless it is running: then its state is returned (a render
        in progress cannot be taken from its worker) and nothing changes."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.state == "running":
                return job.state
            self.remove(job_id)
            return None

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
            shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def load(self) -> None:
        """Read every job folder a previous server left. A queued or running one did not finish: it is marked
        failed (saved so), its temporary files removed. A folder without a readable status is a submission
        that never completed (its status is written last) and is removed."""
        import json

        for folder in sorted(self._folders()):
            try:
                job = Job.from_json(json.loads((folder / STATUS_FILE).read_text("utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                shutil.rmtree(folder, ignore_errors=True)
                continue
            if job.id != folder.name or job.state not in STATES:
                continue  # not one of ours: left alone
            if job.state not in FINISHED:
                job.problems = [f"{job.scene}: the server stopped while this render was {job.state}; "
                                "nothing of it was kept, so submit it again"]
                job.state, job.exit_status, job.finished = "failed", 1, now()
                _remove_partial_files(folder)
                self.save(job)
                self.recovered.append(job.id)
            self._jobs[job.id] = job

    def _folders(self) -> Iterator[Path]:
        for path in self.root.iterdir():
            if path.is_dir() and not path.is_symlink() and is_job_id(path.name):
                yield path


LOCK_FILE = ".lock"


def _lock_folder(root: Path):
    """An exclusive lock on `root`'s lock file, held while the returned file stays open (the process's
    end releases it, however it ends); DeditError when another server holds it. Where the system has no
    `fcntl` (Windows), nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    handle = open(root / LOCK_FILE, "a+b")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DeditError(f"the jobs folder {root} is in use by another dedit serve; give each server its own "
                         "--jobs-dir.") from None
    return handle


def _remove_partial_files(folder: Path) -> None:
    """The temporary files of atomic writes a stopped server was making (`.NAME.*.part`)."""
    for path in folder.rglob(".*.part"):
        try:
            path.unlink()
        except OSError:
            pass
