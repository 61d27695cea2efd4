"""The studio's HTTP routes (FastAPI), served behind designedit.web's guard (token, origin, body size).

    GET  /                  the page (static/index.html); /static/NAME its modules and style
    GET  /api/state         the board's snapshot: picture number, status, errors, warnings, overlays
    GET  /api/events        server-sent events: `state` with each new snapshot
    GET  /api/picture       the scene's output picture, as last written by a finished render
    GET  /api/background    the scene's background picture (the "before")
    GET  /api/plan.svg      the plan's timeline
    POST /api/gesture       {"kind": "move"|"resize"|"flip", "layer": ID, ...}: written into the scene file

Nothing else is served: no route takes a path, so there is nothing to traverse; the static files are the
package's own, looked up by name in a fixed list.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, AsyncIterator, Literal, Optional

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from designedit.errors import DeditError
from designedit.studio.board import Board
from designedit.studio.gestures import GestureRefused, apply_gesture
from designedit.studio.live import StudioWatcher

STATIC = Path(__file__).resolve().parent / "static"
MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
PICTURE_MEDIA = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
KEEPALIVE_S = 15.0
NO_STORE = {"Cache-Control": "no-store"}
MAX_BODY = 16 << 10  # a gesture is a few numbers


class Gesture(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["move", "resize", "flip"]
    layer: str = Field(min_length=1, max_length=200)
    dx: float = Field(0.0, ge=-1e6, le=1e6)  # canvas pixels
    dy: float = Field(0.0, ge=-1e6, le=1e6)
    scale: Optional[float] = Field(None, gt=0.0, le=100.0)
    axis: Literal["horizontal", "vertical"] = "horizontal"


def create_app(watcher: StudioWatcher, board: Board) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    static = {p.name: p for p in STATIC.iterdir() if p.suffix in MEDIA}

    def own_file(name: str) -> Response:
        path = static.get(name)
        if path is None:
            raise HTTPException(404, "No such file.")
        return Response(path.read_bytes(), media_type=MEDIA[path.suffix], headers=NO_STORE)

    @app.get("/")
    def page() -> Response:
        return own_file("index.html")

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        return own_file(name)

    @app.get("/api/state")
    def state() -> JSONResponse:
        return JSONResponse(board.snapshot(), headers=NO_STORE)

    @app.get("/api/events")
    async def events() -> StreamingResponse:
        return StreamingResponse(_stream(board), media_type="text/event-stream", headers=NO_STORE)

    @app.get("/api/picture")
    def picture() -> FileResponse:
        output = watcher.picture_path
        if output is None or not output.is_file():
            raise HTTPException(404, "No picture has been rendered yet.")
        return FileResponse(output, media_type="image/png", headers=NO_STORE)

    @app.get("/api/background")
    def background() -> FileResponse:
        path = _background_path(watcher)
        if path is None:
            raise HTTPException(404, "No picture has been rendered yet.")
        return FileResponse(path, media_type=PICTURE_MEDIA.get(path.suffix.lower(), "application/octet-stream"),
                            headers=NO_STORE)

    @app.get("/api/plan.svg")
    def plan() -> Response:
        if not watcher.latest_plan_svg:
            raise HTTPException(404, "No plan has been compiled yet.")
        return Response(watcher.latest_plan_svg, media_type="image/svg+xml", headers=NO_STORE)

    @app.post("/api/gesture")
    def gesture(g: Gesture) -> JSONResponse:
        try:
            change = apply_gesture(watcher.target.path, g.kind, g.layer, dx=g.dx, dy=g.dy, scale=g.scale, axis=g.axis)
        except GestureRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except DeditError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        if change.written:
            watcher.poke()
        return JSONResponse({"written": change.written, "change": change.summary})

    return app


async def _stream(board: Board) -> AsyncIterator[str]:
    """Each new snapshot as one `state` event; a comment now and then keeps proxies from closing the stream."""
    wake = board.listen()
    seen = -1
    try:
        yield "retry: 500\n\n"
        while not board.closed:
            wake.clear()  # before reading: a publish from now on sets it again
            snapshot = board.snapshot()
            if snapshot["version"] != seen:
                seen = snapshot["version"]
                yield f"event: state\ndata: {json.dumps(snapshot, separators=(',', ':'))}\n\n"
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                yield ": still here\n\n"
    finally:
        board.forget(wake)


def _background_path(watcher: StudioWatcher) -> Optional[Path]:
    from designedit.checks.paths import resolve_reference

    scene: Any = watcher.shown_scene
    if scene is None or scene.origin is None:
        return None
    image = scene.image(scene.background.image)
    try:
        path = resolve_reference(scene.origin, image.src)  # confined to the scene's root, as the reader confines it
    except DeditError:
        return None
    return path if path.is_file() else None
