"""Helpers of the service tests: multipart parts of an upload, waiting for a job to finish."""

from __future__ import annotations

import time
from pathlib import Path


def upload_parts(folder: Path, scene: str, pictures=("poster.png", "ball-mask.png")) -> list:
    """The multipart parts of an upload: the scene file part, then one part per picture named as the scene
    references it."""
    return [("scene", (scene, (folder / scene).read_bytes(), "application/xml"))] + [
        (name, (Path(name).name, (folder / name).read_bytes(), "image/png")) for name in pictures]


def wait_finished(client: TestClient, job_id: str, timeout: float = 60.0) -> dict:
    """The job's status once it is done or failed (polled as a client would)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/renders/{job_id}").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"render {job_id} did not finish within {timeout} s: {status}")
