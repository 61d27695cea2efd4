"""A `dedit serve` service over a jobs folder, driven through FastAPI's TestClient (httpx), and the ball
scenes (tests/render_fixtures.py) copied where each test may write."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest
from fastapi.testclient import TestClient

from designedit.rendering.protocol import RenderOptions
from designedit.rendering.session import RenderSession
from designedit.service.app import create_app
from designedit.service.launch import open_service
from designedit.service.submit import Limits


@pytest.fixture()
def scenes(ball_scenes, tmp_path) -> Path:
    """move.dedit and remove.dedit with poster.png and ball-mask.png, in a folder of this test's own."""
    folder = tmp_path / "scenes"
    shutil.copytree(ball_scenes, folder)
    return folder


@pytest.fixture()
def serve(tmp_path) -> Iterator[Callable[..., TestClient]]:
    """serve(root=None, limits=Limits(), start=True, sessions=None) -> a TestClient on a new service whose
    jobs live in tmp_path/jobs (jobs-2, ... for the next; the client's `.service` is the Service); its workers stop and
    its folder is released afterwards (`client.service.close()` does it sooner)."""
    made = []

    def make(root: Optional[Path] = None, limits: Limits = Limits(), start: bool = True, sessions=None,
             jobs: Optional[Path] = None) -> TestClient:
        sessions = sessions if sessions is not None else [RenderSession("preview", RenderOptions())]
        jobs = jobs or tmp_path / ("jobs" if not made else f"jobs-{len(made) + 1}")  # each its own, unless told
        service = open_service(jobs, sessions if start else [], root=root, limits=limits)
        service.runner.sessions = sessions  # a service made with start=False gets its workers from start()
        client = TestClient(create_app(service))
        client.service = service
        made.append(service)
        return client

    yield make
    for service in made:
        service.close()
