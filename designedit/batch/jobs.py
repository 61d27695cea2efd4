"""One render job of a batch (a scene, or a template with a manifest row's values) and its outcome.

`render_job` never raises for a scene's own trouble: a bad document (status 2) or a failed render
(status 1) becomes an `Outcome` with its located problems, so the batch goes on with the next scene.
Only Ctrl-C and SIGTERM (BaseException) stop a batch. Jobs, settings and outcomes are plain data:
they travel to worker processes and Ray actors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from designedit.errors import DeditError, SceneError
from designedit.model.scene import Scene

OK, BAD_INPUT, FAILED = 0, 2, 1


@dataclass(frozen=True)
class Settings:
    """What every job of a batch shares: the command line's overrides and the allowed root."""

    schedule: Optional[str] = None
    steps: Optional[int] = None
    seed: Optional[int] = None
    root: Optional[Path] = None


@dataclass(frozen=True)
class Job:
    label: str  # how lines name it: the scene as given, or manifest.csv:LINE
    scene: Path
    output: Optional[Path] = None  # None: the scene's <output>, else the scene's name with .png
    values: Optional[tuple[tuple[str, str], ...]] = None  # a manifest row's placeholder values (--each)
    problems: tuple[tuple[str, str], ...] = ()  # (location, sentence) found reading the manifest: bad input


@dataclass
class Outcome:
    label: str
    status: int  # OK, BAD_INPUT or FAILED (a DeditError's own exit status)
    seconds: float
    output: Optional[str] = None
    problems: list[str] = field(default_factory=list)  # located, one sentence each
    warnings: list[str] = field(default_factory=list)
    detail: str = ""  # what an ok render was: "512x384, preview, 0 UNet evaluations"


def load(job: Job, settings: Settings) -> tuple[Scene, Path]:
    """The job's scene (a template filled with its row's values) and where its picture goes."""
    from designedit.errors import Problem
    from designedit.rendering.session import default_output, load_scene

    if job.problems:
        raise SceneError([Problem(where, sentence) for where, sentence in job.problems])
    if job.values is None:
        scene = load_scene(job.scene, root=settings.root)
    else:
        from designedit.batch.manifest import load_filled

        scene = load_filled(job.scene, dict(job.values), settings.root, job.label)
    output = job.output if job.output is not None else default_output(scene, job.scene)
    return scene, output


def failure(label: str, exc: BaseException, started: float) -> Outcome:
    """The outcome of a job that raised `exc` (anything but Ctrl-C / SIGTERM)."""
    seconds = time.perf_counter() - started
    if isinstance(exc, SceneError):
        return Outcome(label, BAD_INPUT, seconds, problems=[str(p) for p in exc.problems])
    if isinstance(exc, DeditError):
        return Outcome(label, exc.exit_status, seconds, problems=[f"{label}: {exc}"])
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return Outcome(label, FAILED, seconds, problems=[f"{label}: out of memory ({exc or type(exc).__name__})."])
    # an unexpected error in one scene is that scene's failure: said in one line, the batch goes on
    return Outcome(label, FAILED, seconds, problems=[f"{label}: the render failed: {type(exc).__name__}: {exc}"])


def render_job(session, job: Job, settings: Settings, write: bool = True):
    """Render `job` on `session` (a RenderSession). Returns (outcome, result): `result` is the
    RenderResult, or None when the job failed. `write=False` renders without writing (Ray: the driver
    writes); the destination is then the caller's to check."""
    started = time.perf_counter()
    warnings: list[str] = []
    try:
        scene, output = load(job, settings)
        result = session.render(scene, output=output if write else None, schedule=settings.schedule,
                                steps=settings.steps, seed=settings.seed, warn=warnings.append)
    except Exception as exc:  # noqa: BLE001 - each scene's failure is reported and the batch goes on
        outcome = failure(job.label, exc, started)
        outcome.warnings = warnings
        return outcome, None
    w, h = result.stats["canvas"]
    detail = f"{w}x{h}, {session.name}, {result.stats.get('unet_evals', 0)} UNet evaluations"
    return Outcome(job.label, OK, time.perf_counter() - started, str(output), warnings=warnings, detail=detail), result
