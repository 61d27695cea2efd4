"""`dedit draft` against a stand-in for a language model.

A local OpenAI-compatible HTTP server started by each test (http.server in a thread) answers with scripted
replies: it replaces the language model, so these tests check dedit's side of the exchange only (the
request's shape, the repair loop, the atomic write, the refusal). No language-model quality is claimed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designedit.cli import main
from designedit.draft.drafting import answer_document
from designedit.io import load

GOOD = {
    "dedit": "1.3", "prompt": "a poster with a red ball on the right",
    "images": [{"id": "poster", "src": "poster.png"}],
    "masks": [{"id": "ball", "src": "masks/ball.png"}],
    "background": {"image": "poster"},
    "layers": [{"id": "ball", "image": "poster", "mask": "ball", "transforms": [{"op": "move", "dx": 160, "dy": 0}]}],
}
BAD = json.loads(json.dumps(GOOD))
BAD["layers"][0]["mask"] = "bal"  # a reference to no mask: the reader locates it at /layers/0/mask


def reply(scene: dict, prose: str = "Layer-wise edits:\n- layer ball: move right 160 px\n") -> str:
    return f"{prose}```json\n{json.dumps(scene, indent=1)}\n```"


class StandIn:
    """An OpenAI-compatible chat endpoint that answers `replies` in order and records each request."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                content = stand_in.replies.pop(0)
                data = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def folder(tmp_path, monkeypatch) -> Path:
    for name in ("DEDIT_LLM_URL", "DEDIT_LLM_KEY", "DEDIT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    Image.fromarray(np.full((384, 512, 3), 200, np.uint8)).save(tmp_path / "poster.png")
    (tmp_path / "masks").mkdir()
    mask = np.zeros((384, 512), np.uint8)
    mask[150:250, 100:200] = 255
    Image.fromarray(mask).save(tmp_path / "masks" / "ball.png")
    return tmp_path


def test_a_bad_first_answer_is_repaired_and_the_scene_written(folder, capsys):
    out = folder / "scene.dedit"
    with StandIn([reply(BAD), reply(GOOD)]) as server:
        rc = main(["draft", str(folder / "poster.png"), "move the ball to the right", "-o", str(out), "--llm", server.url,
                   "--llm-model", "vision-1", "--llm-key", "sekrit", "--masks", str(folder / "masks")])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert load(out).layers[0].mask == "ball" and out.read_text().startswith("<?xml")
    assert "answer 1 has 1 problem; asking for a repair" in captured.err
    first, second = server.requests
    assert first["path"] == "/v1/chat/completions" and first["headers"]["Authorization"] == "Bearer sekrit"
    body = first["body"]
    assert body["model"] == "vision-1" and [m["role"] for m in body["messages"]] == ["system", "user"]
    system = body["messages"][0]["content"]
    assert '"$schema"' in system and '"attention"' in system  # the format's JSON Schema, 1.3's shape included
    assert system.count("Request: ") == 3 and "Layer-wise edits:" in system  # worked examples
    text, image = body["messages"][1]["content"]
    assert text["type"] == "text" and 'src "poster.png", 512x384 pixels' in text["text"]
    assert 'src "masks/ball.png"' in text["text"] and "Request: move the ball to the right" in text["text"]
    assert image["type"] == "image_url" and image["image_url"]["url"].startswith("data:image/jpeg;base64,")
    # the repair: the first answer, then its located problem
    assert [m["role"] for m in second["body"]["messages"]] == ["system", "user", "assistant", "user"]
    repair = second["body"]["messages"][3]["content"]
    assert "scene.dedit#/layers/0/mask: no mask has the id 'bal'" in repair


def test_after_n_bad_answers_it_refuses_with_the_problems_located_and_writes_nothing(folder, capsys):
    out = folder / "scene.dedit.json"
    with StandIn([reply(BAD), "I cannot do that.", reply(BAD)]) as server:
        rc = main(["draft", str(folder / "poster.png"), "move the ball", "-o", str(out), "--llm", server.url, "--repairs", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and len(server.requests) == 3
    assert "scene.dedit.json#/layers/0/mask: no mask has the id 'bal'" in err
    assert "still has problems after 2 repairs; nothing was written" in err
    assert sorted(p.name for p in folder.iterdir()) == ["masks", "poster.png"]  # no scene, no temporary file
    # the answer without a document was sent back as such
    assert "the answer holds no JSON document" in server.requests[2]["body"]["messages"][-1]["content"]


def test_nothing_is_sent_without_an_endpoint(folder, capsys):
    assert main(["draft", str(folder / "poster.png"), "move the ball"]) == 2
    assert "--llm URL or $DEDIT_LLM_URL (nothing is sent anywhere without one)" in capsys.readouterr().err
    assert not (folder / "poster.dedit").exists()


def test_the_environment_names_the_endpoint_and_json_output_is_json(folder, capsys, monkeypatch):
    with StandIn([reply(GOOD)]) as server:
        monkeypatch.setenv("DEDIT_LLM_URL", server.url)
        assert main(["draft", str(folder / "poster.png"), "move the ball", "-o", str(folder / "s.json")]) == 0
    assert json.loads((folder / "s.json").read_text())["dedit"] == "1.3"
    assert "Authorization" not in server.requests[0]["headers"]


@pytest.mark.parametrize("answer, document", [
    ("prose\n```json\n{\"a\": 1}\n```\nmore ```\n{\"b\": 2}\n```", '{"b": 2}'),
    ('here: {"a": {"b": 1}} done', '{"a": {"b": 1}}'),
    ("no document", None),
])
def test_the_document_is_taken_from_the_answer(answer, document):
    assert answer_document(answer) == document


def test_an_oversized_answer_is_refused(folder):
    from designedit.draft import endpoint
    from designedit.errors import DeditError

    with StandIn(["x" * 5000]) as server:
        with pytest.raises(DeditError, match="answered more than 1000 bytes"):
            endpoint.chat(server.url, "m", [{"role": "user", "content": "hi"}], max_bytes=1000)
