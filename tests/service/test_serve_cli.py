"""`dedit serve` as a real process on a free port: the token, the upload bound, the same picture as
`dedit render`, and a finished result that survives the server being killed and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from designedit.cli import main
from service_helpers import upload_parts


class Server:
    """`dedit serve ARGS` in a subprocess; `url` (without the token) once it has said where it listens."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "designedit", "serve", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self.err: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                        for stream, into in ((self.process.stdout, self.lines), (self.process.stderr, self.err))]
        for reader in self.readers:
            reader.start()
        deadline = time.monotonic() + 60
        while not any(line.startswith("serving on ") for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dedit serve did not start: {self.lines} {self.err}")
            time.sleep(0.05)
        announced = next(line for line in self.lines if line.startswith("serving on "))[len("serving on "):]
        self.url = announced.split("/docs?token=")[0]
        self.token = announced.split("?token=")[1]

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def client(self, token: bool = True) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        status = self.process.wait(30)
        for reader in self.readers:  # everything it wrote, read
            reader.join(30)
        return status


def finished(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/v1/renders/{job_id}").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"render {job_id} did not finish: {status}")


@pytest.fixture()
def servers():
    started: list[Server] = []

    def start(*args: str) -> Server:
        started.append(Server(*args))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(30)


def test_serve_renders_as_dedit_render_refuses_strangers_and_big_uploads_and_keeps_results(servers, scenes, tmp_path):
    jobs = tmp_path / "jobs"
    args = ("--renderer", "preview", "--jobs-dir", str(jobs), "--max-upload", "200K")
    server = servers(*args)
    assert server.url.startswith("http://127.0.0.1:") and len(server.token) >= 32
    with server.client(token=False) as stranger:
        refused = stranger.post("/v1/renders", files=upload_parts(scenes, "move.dedit"))
        assert refused.status_code == 403 and "needs its token" in refused.json()["error"]
        assert stranger.get("/v1/renders").status_code == 403
    with server.client() as client:
        too_big = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit") + [
            ("filler.png", ("f.png", b"\0" * 300_000, "image/png"))])
        assert too_big.status_code == 413 and "larger than 204800 bytes" in too_big.json()["error"]
        job = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"]
        status = finished(client, job)
        picture = client.get(status["urls"]["image"]).content
    assert main(["render", str(scenes / "move.dedit"), "-o", str(tmp_path / "cli.png"), "--renderer", "preview"]) == 0
    assert picture == (tmp_path / "cli.png").read_bytes()
    assert sorted(p.name for p in jobs.iterdir()) == [".lock", job]  # the refused uploads left nothing

    assert server.stop(signal.SIGKILL) == -signal.SIGKILL  # no chance to tidy up
    again = servers(*args)
    assert again.token != server.token  # a new random token each start
    with again.client() as client:
        assert client.get(f"/v1/renders/{job}").json()["state"] == "done"
        assert client.get(f"/v1/renders/{job}/image").content == picture
    second = subprocess.run([sys.executable, "-m", "designedit", "serve", *args], capture_output=True, text=True,
                            timeout=120)  # a second server on the same folder would fail the first one's jobs
    assert second.returncode == 1 and second.stderr.endswith("is in use by another dedit serve; give each server "
                                                             "its own --jobs-dir.\n")
    assert again.stop(signal.SIGTERM) == 143 and again.err[-1] == "stopped serving (terminated)."
