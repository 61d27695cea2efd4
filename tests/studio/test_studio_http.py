"""The studio's HTTP surface on a real server: the token, foreign origins, traversal, body bounds, what is
served and what is written."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio_process import SCENE

ROUTES = ["/", "/static/studio.js", "/api/state", "/api/picture", "/api/background", "/api/plan.svg"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_request_without_the_token_gets_403(idle_studio, route):
    with idle_studio.client(token=None) as c:
        answer = c.get(route)
    assert answer.status_code == 403 and "token" in answer.json()["error"]


def test_a_wrong_token_gets_403_and_a_gesture_without_one_writes_nothing(idle_studio):
    with idle_studio.client(token="not-the-token") as c:
        assert c.get("/api/state").status_code == 403
    with idle_studio.client(token=None) as c:
        assert c.post("/api/gesture", json={"kind": "move", "layer": "ball", "dx": 10, "dy": 0}).status_code == 403
    assert idle_studio.scene.read_text() == SCENE


@pytest.mark.parametrize("route", ["/api/state", "/api/picture"])
def test_a_foreign_origin_gets_403_even_with_the_token(idle_studio, route):
    with idle_studio.client(headers={"Origin": "http://evil.example"}) as c:
        answer = c.get(route)
    assert answer.status_code == 403 and "another site" in answer.json()["error"]


def test_a_foreign_origin_cannot_write_the_scene(idle_studio):
    with idle_studio.client(headers={"Origin": "http://evil.example"}) as c:
        assert c.post("/api/gesture", json={"kind": "flip", "layer": "ball"}).status_code == 403
    assert idle_studio.scene.read_text() == SCENE


def test_the_page_its_modules_and_the_pictures_are_served(idle_studio):
    scene = idle_studio.scene
    with idle_studio.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and '<script type="module" src="/static/studio.js">' in page.text
        for name in ("studio.js", "geometry.js", "studio.css"):
            assert c.get(f"/static/{name}").status_code == 200
        shown = np.asarray(Image.open(io.BytesIO(c.get("/api/picture").content)).convert("RGB"))
        on_disk = np.asarray(Image.open(scene.parent / "out" / "poster.png").convert("RGB"))
        assert np.array_equal(shown, on_disk)
        before = np.asarray(Image.open(io.BytesIO(c.get("/api/background").content)).convert("RGB"))
        assert np.array_equal(before, np.asarray(Image.open(scene.parent / "poster.png").convert("RGB")))
        svg = c.get("/api/plan.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml") and "fast schedule" in svg.text


# no route takes a path: each of these is refused whatever it names (the secret file beside the scene exists)
TRAVERSALS = ["/static/..%2Fapp.py", "/static/..%2F..%2F..%2Fetc%2Fpasswd", "/static/%2E%2E/secret.txt",
              "/api/picture/../../secret.txt", "/static/app.py", "/static/__init__.py", "/secret.txt",
              "/scene.dedit", "/poster.png", "/out/poster.png", "/static/..\\app.py"]


@pytest.mark.parametrize("route", TRAVERSALS)
def test_no_path_reaches_a_file_outside_what_is_served(idle_studio, route):
    (idle_studio.scene.parent / "secret.txt").write_text("secret")
    with idle_studio.client() as c:
        answer = c.get(route)
    assert answer.status_code == 404 and "secret" not in answer.text


def test_a_body_larger_than_the_bound_gets_413_and_writes_nothing(idle_studio):
    with idle_studio.client() as c:
        answer = c.post("/api/gesture", content=b"{" + b" " * (64 << 10) + b"}",
                        headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert idle_studio.scene.read_text() == SCENE
