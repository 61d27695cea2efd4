"""`dedit studio` as a command: bad input, starting on an invalid scene, SIGTERM, another host, a port in use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from studio_process import SCENE, WAIT, Studio, picture_number, write_scene


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("DEDIT_MODEL", None)
    return subprocess.run([sys.executable, "-m", "designedit", "studio", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=WAIT)


def test_a_missing_scene_is_bad_input(tmp_path):
    done = run_cli("nothing.dedit", "--renderer", "preview", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == "dedit: nothing.dedit is not a file."


def test_a_port_in_use_is_one_sentence(tmp_path):
    scene = write_scene(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_cli(str(scene), "--renderer", "preview", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith(f"dedit: Cannot serve on 127.0.0.1:{port}")
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_starting_on_an_invalid_scene_serves_its_errors_until_it_is_fixed(tmp_path):
    scene = write_scene(tmp_path, SCENE.replace('<move dx="96"', '<move dx="ninety"'))
    running = Studio(scene, "--renderer", "preview")
    try:
        state = running.wait_state(lambda s: s.get("failed"), "the errors")
        assert any("scene.dedit:11:11:" in line and "ninety" in line for line in state["errors"])
        assert state["errors"][-1].endswith("no picture written yet, still watching")
        with running.client() as c:
            assert c.get("/api/picture").status_code == 404
        scene.write_text(SCENE)
        state = running.wait_state(lambda s: picture_number(s) == 1, "the picture once fixed")
        assert not state["failed"] and state["errors"] == []
    finally:
        assert running.stop() == 0


def test_sigterm_stops_it_with_status_143(scene):
    running = Studio(scene, "--renderer", "preview")
    running.wait_state(lambda s: picture_number(s) == 1, "the first picture")
    with running.client() as c, c.stream("GET", "/api/events") as events:  # an open event stream does not hold it up
        next(events.iter_lines())
        assert running.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    assert running.lines[-1] == "stopped the studio (terminated)."


def test_another_host_is_served_with_a_warning(scene):
    running = Studio(scene, "--renderer", "preview", "--host", "0.0.0.0")
    try:
        assert any("reachable from other machines" in line for line in running.lines)
        assert running.url.startswith("http://0.0.0.0:")
    finally:
        assert running.stop() == 0
