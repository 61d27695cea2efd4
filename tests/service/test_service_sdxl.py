"""The service with the SDXL renderer (a tiny random-weight model, tests/sdxl_tiny.py, standing in for SDXL's
weights, which tests cannot download): the PNG it serves is the one `dedit render` writes, byte for byte,
and its worker keeps one renderer, so the model is loaded once for every job."""

from __future__ import annotations

import json

from designedit.cli import main
from designedit.rendering.session import RenderSession
from dedit_sdxl import loading, sdxl_options
from service_helpers import upload_parts, wait_finished


def test_tiny_sdxl_jobs_give_the_bytes_of_dedit_render_on_one_loaded_model(serve, scenes, tiny32, tmp_path, monkeypatch):
    loads = []
    load_model = loading.load_model
    monkeypatch.setattr(loading, "load_model", lambda *a, **k: loads.append(a) or load_model(*a, **k))
    session = RenderSession("sdxl", sdxl_options(model=str(tiny32), device="cpu", cache_dir=tmp_path / "service-cache"))
    client = serve(sessions=[session])
    ids = [client.post("/v1/renders", files=upload_parts(scenes, scene), data={"steps": "4"}).json()["id"]
           for scene in ("move.dedit", "remove.dedit")]
    with client.stream("GET", f"/v1/renders/{ids[1]}/events") as stream:  # the second job, from the queue on
        events = [json.loads(line[len("data: "):]) for line in stream.iter_lines() if line.startswith("data: ")]
    statuses = [wait_finished(client, job, timeout=600) for job in ids]
    assert events[0]["state"] == "queued" and events[-1]["state"] == "done"
    fractions = [e["progress"]["fraction"] for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    phases = {e["progress"]["phase"] for e in events if e["state"] == "running"}
    assert any(p and p.startswith("inverting") for p in phases), phases  # SDXL tells its phases
    assert [s["state"] for s in statuses] == ["done", "done"], statuses
    assert statuses[0]["stats"]["renderer"] == "sdxl" and statuses[0]["stats"]["unet_evals"] > 0
    assert len(loads) == 1  # one model for both jobs
    for scene, status in zip(("move.dedit", "remove.dedit"), statuses):
        out = tmp_path / f"cli-{scene}.png"
        assert main(["render", str(scenes / scene), "-o", str(out), "--renderer", "sdxl", "--model", str(tiny32),
                     "--device", "cpu", "--steps", "4", "--cache-dir", str(tmp_path / "cli-cache")]) == 0
        assert client.get(status["urls"]["image"]).content == out.read_bytes()
