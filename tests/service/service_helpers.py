"""Helpers of the service tests: multipart parts of an upload, waiting for a job to finish."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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


@contextmanager
def real_server(app) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread (a real connection, which a client can
    close mid-stream: TestClient cannot show that on every Starlette release); yields its base URL."""
    import uvicorn

    from designedit.web.server import bind

    sock = bind("127.0.0.1", None)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
