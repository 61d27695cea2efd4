"""The checks in front of every dedit server (designedit.web.guard), driven over HTTP by Starlette's test client,
and a real uvicorn server on a free port (designedit.web.server)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from designedit.errors import DeditError
from designedit.web.guard import COOKIE, Access, guarded
from designedit.web.server import bind, is_loopback, loopback_access, new_token, url_of

TOKEN = "s3cret-token"


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"bytes": len(body)})


APP = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])])


def client(**access) -> TestClient:
    settings = {"token": TOKEN, "max_body": 1000, **access}
    return TestClient(guarded(APP, Access(**settings)), base_url="http://127.0.0.1:8123")


@pytest.mark.parametrize("how", ["header", "query", "cookie"])
def test_a_token_is_accepted_from_header_query_or_cookie(how):
    c = client()
    if how == "header":
        r = c.get("/echo", headers={"Authorization": f"Bearer {TOKEN}"})
    elif how == "query":
        r = c.get(f"/echo?token={TOKEN}")
    else:
        c.cookies.set(COOKIE, TOKEN)
        r = c.get("/echo")
    assert r.status_code == 200, r.text
    assert r.json() == {"bytes": 0}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Cookie": f"{COOKIE}=wrong"}, {"Cookie": "garbage;;=;\x7f"}])
def test_a_missing_or_wrong_token_gets_403_with_a_sentence(headers):
    r = client().get("/echo", headers=headers)
    assert r.status_code == 403
    assert r.json()["error"].endswith(".") and "token" in r.json()["error"]


def test_the_query_token_sets_a_strict_httponly_cookie_the_next_request_uses():
    c = client()
    first = c.get(f"/echo?token={TOKEN}")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/echo").status_code == 200  # the cookie alone now
    assert "set-cookie" not in c.get("/echo", headers={"Authorization": f"Bearer {TOKEN}"}).headers


def test_no_token_configured_lets_requests_through():
    assert client(token=None).get("/echo").status_code == 200


@pytest.mark.parametrize("origin, status", [("http://127.0.0.1:8123", 200), ("http://evil.example", 403),
                                            ("http://127.0.0.1:9999", 403), ("null", 403)])
def test_a_foreign_origin_is_refused_even_with_the_token(origin, status):
    r = client().get("/echo", headers={"Authorization": f"Bearer {TOKEN}", "Origin": origin})
    assert r.status_code == status
    if status == 403:
        assert "another site" in r.json()["error"]


def test_extra_origins_may_be_allowed():
    r = client(extra_origins=frozenset({"http://tool.local:3000"})).get(
        "/echo", headers={"Authorization": f"Bearer {TOKEN}", "Origin": "http://tool.local:3000"})
    assert r.status_code == 200


def test_a_loopback_server_refuses_a_rebound_host_name():
    access = loopback_access("127.0.0.1", TOKEN, 1000)
    c = TestClient(guarded(APP, access), base_url="http://attacker.example:8123")
    r = c.get("/echo", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 403 and "attacker.example" in r.json()["error"]
    ok = TestClient(guarded(APP, access), base_url="http://localhost:8123")
    assert ok.get("/echo", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_body_over_the_limit_is_refused_by_its_length_and_when_streamed():
    c = client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.post("/echo", content=b"x" * 1000, headers=auth).json() == {"bytes": 1000}
    r = c.post("/echo", content=b"x" * 1001, headers=auth)
    assert r.status_code == 413 and "1000 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(5):
            yield b"y" * 300

    r = c.post("/echo", content=chunks(), headers=auth)
    assert r.status_code == 413


def test_tokens_are_random_and_url_safe():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 32 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


@pytest.mark.parametrize("host, loop", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                        ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.4", False)])
def test_loopback_hosts(host, loop):
    assert is_loopback(host) is loop


def test_binding_elsewhere_than_loopback_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="designedit"):
        sock = bind("0.0.0.0", None)
    sock.close()
    assert "reachable from other machines" in caplog.text


def test_a_port_in_use_is_one_sentence():
    first = bind("127.0.0.1", None)
    port = first.getsockname()[1]
    try:
        # SO_REUSEADDR does not let two sockets listen on one port
        with pytest.raises(DeditError, match=rf"Cannot serve on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        first.close()


def test_a_real_server_on_a_free_port_checks_the_token():
    import uvicorn

    sock = bind("127.0.0.1", None)
    port = sock.getsockname()[1]
    token = new_token()
    app = guarded(APP, loopback_access("127.0.0.1", token, 1000))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        url = url_of(sock, token, "/echo")
        assert url.startswith("http://127.0.0.1:") and url.endswith(f"/echo?token={token}")
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with urllib.request.urlopen(url, timeout=5) as r:
            assert json.load(r) == {"bytes": 0}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.split("?")[0], timeout=5)
        assert refused.value.code == 403
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    with pytest.raises(ConnectionRefusedError):  # stopped: nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=1)
