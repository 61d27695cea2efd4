"""The checks every request to a dedit server passes first, as ASGI middleware around the app.

- The token: from `Authorization: Bearer T`, the cookie `dedit_token`, or the query `?token=T` (how a browser's
  first page load carries it; the answer then sets the cookie, HttpOnly and SameSite=Strict, so the page's own
  requests need not repeat it). Missing or wrong: 403. Compared in constant time.
- The origin: a request whose `Origin` header names another site than the server's own (scheme://Host) is
  refused with 403 -- a page elsewhere must not drive a local server through the user's browser, even with the
  cookie, which SameSite=Strict already keeps from it.
- The host: when `hosts` is given (a server bound to loopback gives the loopback names), a `Host` header naming
  anything else is refused with 403 -- a rebound DNS name pointing at 127.0.0.1 is another site.
- The body: larger than `max_body` bytes is refused with 413, by its Content-Length before anything is read and,
  when it has none (chunked), by counting what arrives.

Answers are JSON `{"error": "one sentence"}`.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "dedit_token"


@dataclass(frozen=True)
class Access:
    """Who may ask what: the token (None: anyone who reaches the socket), the largest body, and origins
    besides the server's own that may call it (scheme://host[:port])."""

    token: Optional[str]
    max_body: int
    extra_origins: frozenset[str] = field(default_factory=frozenset)
    hosts: Optional[frozenset[str]] = None


def guarded(app: ASGIApp, access: Access) -> ASGIApp:
    """`app` behind the token, origin and body checks."""

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)  # lifespan
            return
        headers = _headers(scope)
        refusal = (_host_refusal(headers, access) or _origin_refusal(scope, headers, access)
                   or _token_refusal(scope, headers, access))
        if refusal:
            await _answer(scope, send, 403, refusal)
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > access.max_body):
            await _answer(scope, send, 413, f"The request body is larger than {access.max_body} bytes.")
            return
        set_cookie = access.token is not None and _query_token(scope) is not None
        await _run(app, scope, receive, _with_cookie(send, access.token) if set_cookie else send, access.max_body)

    return guard


async def _run(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """The app with its body counted: past `limit`, 413 is answered here, the app is told the client left,
    and whatever it sends after that (an error page of its own) goes nowhere."""
    state = {"started": False, "refused": False, "seen": 0}

    async def counted() -> Message:
        message = await receive()
        if message["type"] == "http.request" and not state["refused"]:
            state["seen"] += len(message.get("body", b""))
            if state["seen"] > limit:
                state["refused"] = True
                if not state["started"]:
                    await _answer(scope, send, 413, f"The request body is larger than {limit} bytes.")
                return {"type": "http.disconnect"}
        return message

    async def tracking(message: Message) -> None:
        if state["refused"]:
            return
        if message["type"] == "http.response.start":
            state["started"] = True
        await send(message)

    try:
        await app(scope, counted, tracking)
    except Exception:
        if not state["refused"]:
            raise  # the app's own failure; a refused body's aftermath (ClientDisconnect) is not


def _headers(scope: Scope) -> dict[str, str]:
    # repeated headers: the last one wins, except that every one is checked where it matters (Origin is single)
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _own_origin(scope: Scope, headers: dict[str, str]) -> str:
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}".lower()


def _origin_refusal(scope: Scope, headers: dict[str, str], access: Access) -> Optional[str]:
    origin = headers.get("origin")
    if origin is None:
        return None
    origin = origin.strip().lower()
    if origin == _own_origin(scope, headers) or origin in {o.lower() for o in access.extra_origins}:
        return None
    return f"Requests from another site ({origin}) are refused."


def _host_refusal(headers: dict[str, str], access: Access) -> Optional[str]:
    if access.hosts is None:
        return None
    host = headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.strip("[]").lower() in access.hosts:
        return None
    return f"This server answers only to {', '.join(sorted(access.hosts))}, not to {host or 'no host'}."


def _query_token(scope: Scope) -> Optional[str]:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[-1] if values else None


def _presented_tokens(scope: Scope, headers: dict[str, str]) -> list[str]:
    found = []
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        found.append(auth[7:].strip())
    cookie = headers.get("cookie")
    if cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie)
        except Exception:  # a malformed cookie header is no token
            jar = SimpleCookie()
        if COOKIE in jar:
            found.append(jar[COOKIE].value)
    query = _query_token(scope)
    if query is not None:
        found.append(query)
    return found


def _token_refusal(scope: Scope, headers: dict[str, str], access: Access) -> Optional[str]:
    if access.token is None:
        return None
    want = access.token.encode()
    if any(hmac.compare_digest(given.encode(), want) for given in _presented_tokens(scope, headers)):
        return None
    return "This server needs its token (Authorization: Bearer TOKEN, or the URL it printed)."


def _with_cookie(send: Send, token: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)

    return sending


async def _answer(scope: Scope, send: Send, status: int, sentence: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": sentence[:120]})
        return
    body = json.dumps({"error": sentence}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
