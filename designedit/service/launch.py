"""Putting a service together: the job store (read back from the jobs folder), the workers, the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from designedit.rendering.session import RenderSession
from designedit.service.app import Service, create_app
from designedit.service.jobs import JobStore
from designedit.service.submit import Limits
from designedit.service.worker import Runner


def open_service(jobs_dir: Path, sessions: list[RenderSession], root: Optional[Path] = None,
                 limits: Limits = Limits(), defaults: Optional[dict[str, Any]] = None,
                 say: Callable[[str], None] = lambda line: None) -> Service:
    """Read the jobs a previous server left in `jobs_dir` (unfinished ones become failed), then start one
    worker per session. `defaults`: schedule, steps and seed for jobs that do not set them (the scene's
    own settings otherwise)."""
    store = JobStore(jobs_dir)
    store.load()
    runner = Runner(store, sessions, root.resolve() if root is not None else None, limits.max_queue,
                    defaults=defaults, say=say)
    runner.start()
    return Service(store, runner, limits, runner.root)


def guarded_app(service: Service, token: Optional[str], host: str = "127.0.0.1"):
    """The service's app behind dedit's HTTP guard: the token, same-origin requests only (and loopback host
    names only on a loopback `host`), bodies of at most `limits.max_upload` bytes."""
    from designedit.web.guard import guarded
    from designedit.web.server import loopback_access

    return guarded(create_app(service), loopback_access(host, token, service.limits.max_upload))
