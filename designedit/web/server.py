"""Starting a dedit server: a token, a socket bound before the URL is printed, uvicorn on it until a signal.

The socket is bound here, not by uvicorn, so that port 0 (a free port) is known before the URL is announced
and a port already in use is one sentence (`DeditError`), not a traceback from inside the server.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
from typing import Callable, Optional
from urllib.parse import quote

from ..errors import DeditError
from .guard import ASGIApp, Access

log = logging.getLogger("designedit")

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def new_token() -> str:
    """A random token (about 190 bits), safe in URLs."""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_access(host: str, token: Optional[str], max_body: int) -> Access:
    """The checks for a server bound to `host`: on loopback, only loopback Host names are answered."""
    return Access(token=token, max_body=max_body, hosts=LOOPBACK_NAMES if is_loopback(host) else None)


def bind(host: str = "127.0.0.1", port: Optional[int] = None) -> socket.socket:
    """A listening socket on `host`:`port` (None or 0: a free port). A host other than loopback is served
    as asked, with a warning: the token is then all that stands between the network and the server."""
    if not is_loopback(host):
        log.warning(f"dedit: serving on {host}, reachable from other machines; anyone with the token can use it.")
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DeditError(f"Cannot serve on host {host!r}: {exc.strerror}.") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise DeditError(f"Cannot serve on {host}:{port or 0}: {exc.strerror or exc}.") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, token: Optional[str], path: str = "/") -> str:
    """The URL a browser or client uses, with the token in its query when there is one."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={quote(token)}" if token else ""
    return f"http://{shown}:{port}{path}{query}"


def serve(app: ASGIApp, sock: socket.socket, announce: Optional[Callable[[str], None]] = None,
          token: Optional[str] = None, path: str = "/", grace: Optional[float] = None) -> None:
    """Run `app` (already `guarded`) with uvicorn on `sock` until SIGINT or SIGTERM; `announce` gets the URL
    once the server listens. `grace`: seconds requests still running at a signal may take before they are
    cancelled (None: as long as they need; a server of endless event streams gives a few)."""
    try:
        import uvicorn
    except ImportError:
        raise DeditError("Serving needs the web extra: pip install 'designedit[web]'.") from None

    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=grace)
    server = uvicorn.Server(config)
    if announce is not None:
        announce(url_of(sock, token, path))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
