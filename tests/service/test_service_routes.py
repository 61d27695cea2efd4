"""The service's routes with the preview renderer: pictures as `dedit render` writes them, bad scenes as
failed jobs with the CLI's problems, refused uploads (names, sizes), the queue bound, layers, events."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from designedit.cli import main
from designedit.errors import DeditError
from designedit.rendering.protocol import RenderOptions
from designedit.rendering.session import RenderSession
from designedit.service.app import create_app
from designedit.service.submit import Limits
from service_helpers import real_server, upload_parts, wait_finished


def cli_render(folder: Path, scene: str, *flags: str) -> bytes:
    out = folder / f"cli-{scene}.png"
    assert main(["render", str(folder / scene), "-o", str(out), "--renderer", "preview", *flags]) == 0
    return out.read_bytes()


def jobs_on_disk(client) -> list[Path]:
    return sorted(p for p in client.service.store.root.iterdir() if p.name != ".lock")


@pytest.mark.parametrize("scene", ["move.dedit", "remove.dedit"])
def test_an_uploaded_scene_renders_to_the_bytes_dedit_render_writes(serve, scenes, scene):
    client = serve()
    answer = client.post("/v1/renders", files=upload_parts(scenes, scene))
    assert answer.status_code == 202 and answer.headers["location"] == f"/v1/renders/{answer.json()['id']}"
    status = wait_finished(client, answer.json()["id"])
    assert (status["state"], status["problems"], status["exit_status"]) == ("done", [], 0)
    picture = client.get(status["urls"]["image"])
    assert picture.headers["content-type"] == "image/png"
    assert picture.content == cli_render(scenes, scene)


def test_a_scene_named_by_path_under_root_renders_as_dedit_render_does(serve, scenes):
    client = serve(root=scenes.parent)
    by_json = client.post("/v1/renders", json={"scene": "scenes/move.dedit", "seed": 3, "layers": False})
    by_form = client.post("/v1/renders", data={"scene": "scenes/move.dedit", "seed": "3"})
    expected = cli_render(scenes, "move.dedit", "--seed", "3", "--root", str(scenes.parent))
    for answer in (by_json, by_form):
        assert answer.status_code == 202, answer.text
        status = wait_finished(client, answer.json()["id"])
        assert status["state"] == "done" and status["stats"]["seed"] == 3
        assert client.get(status["urls"]["image"]).content == expected
    assert client.get(f"/v1/renders/{by_json.json()['id']}").json()["layers"] == []


def test_settings_of_a_job_reach_the_render_and_bad_ones_get_the_clis_sentence(serve, scenes):
    client = serve()
    answer = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit"),
                         data={"steps": "7", "seed": "11", "schedule": "reference"})
    stats = wait_finished(client, answer.json()["id"])["stats"]
    assert (stats["steps"], stats["seed"], stats["schedule"]) == (7, 11, "reference")
    for fields, sentence in [({"steps": "0"}, "the step count must be between 1 and"),
                             ({"seed": "x"}, "the seed must be a whole number, not 'x'."),
                             ({"schedule": "slow"}, "'slow' is not a schedule; use fast or reference."),
                             ({"colour": "red"}, "'colour' is not a setting of a render")]:
        refused = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit"), data=fields)
        assert refused.status_code == 400 and sentence in refused.json()["error"], refused.text
    assert len(jobs_on_disk(client)) == 1  # nothing kept of the refused ones


BAD_ATTRIBUTE = ('<dedit version="1.0">\n  <image id="p" src="poster.png"/>\n  <mask id="ball" src="ball-mask.png" '
                 'grow="lots"/>\n  <background image="p"/>\n</dedit>\n')
MISSING_PICTURE = ('<dedit version="1.0">\n  <image id="p" src="poster.png"/>\n  <image id="q" src="other.png"/>\n'
                   '  <background image="p"/>\n</dedit>\n')


@pytest.mark.parametrize("text", [BAD_ATTRIBUTE, MISSING_PICTURE], ids=["bad-attribute", "missing-picture"])
def test_a_bad_scene_fails_its_job_with_the_problems_dedit_render_prints(serve, scenes, text, capsys):
    (scenes / "bad.dedit").write_text(text)
    client = serve()
    answer = client.post("/v1/renders", files=upload_parts(scenes, "bad.dedit", pictures=("poster.png",)))
    assert answer.status_code == 202
    status = wait_finished(client, answer.json()["id"])
    capsys.readouterr()
    assert main(["render", str(scenes / "bad.dedit"), "--renderer", "preview"]) == 2
    printed = capsys.readouterr().err.strip().splitlines()
    # the CLI names the file as typed (a path), the service as uploaded (its name): the rest is the same
    assert [line.replace(str(scenes / "bad.dedit"), "bad.dedit") for line in printed] == status["problems"]
    assert status["problems"][0].startswith("bad.dedit:") and (status["state"], status["exit_status"]) == ("failed", 2)
    refused = client.get(f"/v1/renders/{status['id']}/image")
    assert refused.status_code == 409 and "it failed" in refused.json()["error"]


@pytest.mark.parametrize("name", ["../poster.png", "/etc/passwd", "a\\poster.png", ".poster.png", "sub/../../x.png",
                                  "nothing-named-so.png"])
def test_a_picture_part_the_scene_does_not_name_inside_the_job_is_refused(serve, scenes, name, tmp_path):
    client = serve()
    parts = upload_parts(scenes, "move.dedit") + [(name, ("x.png", b"\x89PNG", "image/png"))]
    answer = client.post("/v1/renders", files=parts)
    assert answer.status_code == 400 and answer.json()["error"].startswith("the part ")
    assert jobs_on_disk(client) == [] and not (tmp_path / "x.png").exists() and not (tmp_path.parent / "x.png").exists()


def test_a_scene_that_leaves_its_folder_cannot_get_the_picture_uploaded(serve, scenes):
    text = (scenes / "move.dedit").read_text().replace('src="poster.png"', 'src="../poster.png"')
    (scenes / "escape.dedit").write_text(text)
    client = serve()
    parts = upload_parts(scenes, "escape.dedit", pictures=("ball-mask.png",)) + [
        ("../poster.png", ("poster.png", (scenes / "poster.png").read_bytes(), "image/png"))]
    assert client.post("/v1/renders", files=parts).status_code == 400
    # without the part, the job fails as dedit render would: the reference points outside the allowed folder
    answer = client.post("/v1/renders", files=upload_parts(scenes, "escape.dedit", pictures=("ball-mask.png",)))
    problems = wait_finished(client, answer.json()["id"])["problems"]
    assert len(problems) == 1 and "'../poster.png' points outside the allowed folder" in problems[0]


def test_a_scene_path_outside_root_or_without_root_is_refused(serve, scenes):
    assert "without --root" in serve().post("/v1/renders", json={"scene": "move.dedit"}).json()["error"]
    client = serve(root=scenes)
    for path in ["../scenes/move.dedit", "/etc/passwd", "a/../../x.dedit", 7]:
        answer = client.post("/v1/renders", json={"scene": path})
        assert answer.status_code == 400 and "served folder (--root)" in answer.json()["error"], answer.text
    (scenes / "link.dedit").symlink_to(scenes.parent / "elsewhere.dedit")
    assert "leads outside" in client.post("/v1/renders", json={"scene": "link.dedit"}).json()["error"]


def test_oversized_parts_and_too_many_pictures_are_refused_with_413(serve, scenes):
    size = (scenes / "poster.png").stat().st_size
    client = serve(limits=Limits(max_part=size - 1, max_files=1))
    answer = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit", pictures=("poster.png",)))
    assert answer.status_code == 413
    assert answer.json()["error"] == (f"the part 'poster.png' is {size} bytes, more than the limit of {size - 1} bytes "
                                      "per picture (--max-part).")
    assert client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).status_code == 413
    big = [("scene", ("big.dedit", b" " * (4 * 1024 * 1024 + 1) + b"<dedit/>", "application/xml"))]
    assert "more than a document may be" in client.post("/v1/renders", files=big).json()["error"]
    assert jobs_on_disk(client) == []


def test_a_full_queue_answers_429_and_a_queued_job_can_be_deleted(serve, scenes):
    client = serve(limits=Limits(max_queue=2), start=False)  # no worker runs: jobs stay queued
    ids = [client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"] for _ in range(2)]
    full = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit"))
    assert full.status_code == 429 and "2 renders are waiting already" in full.json()["error"]
    assert client.delete(f"/v1/renders/{ids[0]}").status_code == 204
    assert client.get(f"/v1/renders/{ids[0]}").status_code == 404 and len(jobs_on_disk(client)) == 1
    client.service.runner.start()
    assert wait_finished(client, ids[1])["state"] == "done"
    assert [job["id"] for job in client.get("/v1/renders").json()["renders"]] == [ids[1]]


def test_unknown_ids_and_unfinished_results_have_plain_answers(serve, scenes):
    client = serve(start=False)
    assert client.get("/v1/renders/nope").json() == {"error": "no render has the id 'nope'."}
    assert client.get("/v1/renders/" + "A" * 22 + "/image").status_code == 404
    job = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"]
    early = client.get(f"/v1/renders/{job}/image")
    assert early.status_code == 409 and early.json()["error"] == f"render {job} has no picture: it is queued."
    assert client.post("/v1/renders", content=b"scene", headers={"content-type": "text/plain"}).status_code == 415
    assert client.post("/v1/renders", files=[("poster.png", ("p.png", b"x"))]).status_code == 400


def test_layers_come_as_an_openraster_stack_and_as_the_pictures_dedit_render_writes(serve, scenes):
    client = serve()
    status = wait_finished(client, client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"])
    assert status["layers"] == ["background", "ball"]
    stack = client.get(status["urls"]["layers"])
    assert stack.headers["content-type"] == "image/openraster"
    with zipfile.ZipFile(io.BytesIO(stack.content)) as ora:
        assert ora.read("mimetype") == b"image/openraster" and "stack.xml" in ora.namelist()
    layers = scenes / "cli-layers"
    assert main(["render", str(scenes / "move.dedit"), "-o", str(scenes / "o.png"), "--renderer", "preview",
                 "--layers", str(layers)]) == 0
    assert client.get(status["urls"]["layer_pictures"]["ball"]).content == (layers / "layer-ball.png").read_bytes()
    assert client.get(status["urls"]["layer_pictures"]["background"]).content == (layers / "background.png").read_bytes()
    assert client.get(f"/v1/renders/{status['id']}/layers/sun").status_code == 404
    stats = client.get(status["urls"]["stats"]).json()
    assert stats["renderer"] == "preview" and stats["canvas"] == [512, 384]


def test_events_stream_the_status_until_done_and_a_closed_stream_cancels_nothing(serve, scenes):
    client = serve(start=False)
    job = client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"]
    with real_server(create_app(client.service)) as url, httpx.Client(base_url=url, timeout=30) as remote:
        with remote.stream("GET", f"/v1/renders/{job}/events") as stream:  # closed after one event: a client gone
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "event: status" and json.loads(next(lines)[len("data: "):])["state"] == "queued"
    client.service.runner.start()
    assert wait_finished(client, job)["state"] == "done"
    events = []
    with client.stream("GET", f"/v1/renders/{job}/events") as stream:
        events = [json.loads(line[len("data: "):]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert [e["state"] for e in events] == ["done"]  # a finished job: one event, then the stream ends
    fresh = client.post("/v1/renders", files=upload_parts(scenes, "remove.dedit")).json()["id"]
    with client.stream("GET", f"/v1/renders/{fresh}/events") as stream:
        states = [json.loads(line[len("data: "):])["state"] for line in stream.iter_lines() if line.startswith("data: ")]
    assert states[-1] == "done" and set(states) <= {"queued", "running", "done"}


def test_the_api_is_described_at_docs_and_in_openapi(serve):
    client = serve(start=False)
    assert client.get("/docs").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/docs"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/renders", "/v1/renders/{job_id}", "/v1/renders/{job_id}/image", "/v1/renders/{job_id}/events",
            "/v1/renders/{job_id}/layers"} <= set(paths)
    assert "multipart/form-data" in paths["/v1/renders"]["post"]["requestBody"]["content"]


def test_a_restarted_service_keeps_finished_jobs_and_fails_the_unfinished_ones_saying_so(serve, scenes, tmp_path):
    first = serve()
    done = wait_finished(first, first.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"])
    picture = first.get(done["urls"]["image"]).content
    first.service.close()
    stopped = serve(start=False, jobs=tmp_path / "jobs")  # a server that stopped with a job waiting ...
    waiting = stopped.post("/v1/renders", files=upload_parts(scenes, "remove.dedit")).json()["id"]
    stopped.service.store.close()
    running = tmp_path / "jobs" / waiting  # ... and one that stopped mid-render, half a file written
    status = json.loads((running / "status.json").read_text())
    (tmp_path / "jobs" / ("R" * 22)).mkdir()
    (tmp_path / "jobs" / ("R" * 22) / "status.json").write_text(json.dumps({**status, "id": "R" * 22, "state": "running"}))
    (tmp_path / "jobs" / ("R" * 22) / ".result.png.x1.part").write_bytes(b"half")
    (tmp_path / "jobs" / ("S" * 22) / "inputs").mkdir(parents=True)  # a submission cut short: no status yet
    again = serve(jobs=tmp_path / "jobs")
    assert again.get(done["urls"]["image"]).content == picture
    assert again.get(f"/v1/renders/{done['id']}").json()["state"] == "done"
    for job_id, was in [(waiting, "queued"), ("R" * 22, "running")]:
        status = again.get(f"/v1/renders/{job_id}").json()
        assert (status["state"], status["exit_status"]) == ("failed", 1)
        assert status["problems"] == [f"remove.dedit: the server stopped while this render was {was}; nothing of it "
                                      "was kept, so submit it again"]
        on_disk = json.loads((tmp_path / "jobs" / job_id / "status.json").read_text())
        assert on_disk["state"] == "failed"
    assert not (tmp_path / "jobs" / ("R" * 22) / ".result.png.x1.part").exists()
    assert not (tmp_path / "jobs" / ("S" * 22)).exists()
    assert {j["id"] for j in again.get("/v1/renders").json()["renders"]} == {done["id"], waiting, "R" * 22}


def test_one_jobs_folder_serves_one_server_at_a_time(serve, tmp_path):
    first = serve(start=False)
    with pytest.raises(DeditError, match="is in use by another dedit serve; give each server its own --jobs-dir"):
        serve(start=False, jobs=tmp_path / "jobs")
    first.service.close()
    serve(start=False, jobs=tmp_path / "jobs")  # free again


def test_two_workers_each_with_a_renderer_render_every_job_alike(serve, scenes):
    client = serve(sessions=[RenderSession("preview", RenderOptions()) for _ in range(2)])
    ids = [client.post("/v1/renders", files=upload_parts(scenes, "move.dedit")).json()["id"] for _ in range(4)]
    pictures = {client.get(wait_finished(client, job)["urls"]["image"]).content for job in ids}
    assert len(pictures) == 1 and pictures == {cli_render(scenes, "move.dedit")}
