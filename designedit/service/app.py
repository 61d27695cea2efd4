"""The HTTP API of `dedit serve` (spec/service.md): FastAPI routes over the job store and the render queue.

This app checks nothing about who asks: `dedit serve` wraps it in designedit.web.guard (the token, the
request's origin, the body's size), as it wraps every dedit server.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Optional

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from designedit.errors import RequestError
from designedit.model.quoting import LONG, quote
from designedit.service.jobs import FINISHED, LAYERS, ORA, RESULT, STATS, Job, JobStore
from designedit.service.submit import (OPTION_FIELDS, Limits, Upload, new_path_job, new_upload_job, render_options,
                                       scene_file_name)
from designedit.service.worker import Runner
from designedit.version import __version__

EVENT_POLL_S = 0.1  # how often a stream of events looks for a change
KEEPALIVE_S = 15.0  # a comment line on a quiet stream, so proxies keep it open


@dataclass
class Service:
    """What the routes serve: the jobs, the queue that renders them, the limits, the --root for scenes
    named by path (None: uploads only)."""

    store: JobStore
    runner: Runner
    limits: Limits
    root: Optional[Path]

    def close(self) -> None:
        """Stop the workers (after the jobs queued so far) and release the jobs folder."""
        self.runner.stop()
        self.store.close()


SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object",
                "required": ["scene"],
                "properties": {
                    "scene": {"type": "string", "format": "binary",
                              "description": "the .dedit document (XML or JSON); or, as a text field, a path under --root"},
                    "schedule": {"type": "string", "enum": ["fast", "reference"]},
                    "steps": {"type": "integer"}, "seed": {"type": "integer"},
                    "layers": {"type": "boolean", "default": True},
                },
                "additionalProperties": {"type": "string", "format": "binary",
                                         "description": "a picture, the part named as the scene references it"},
            }},
            "application/json": {"schema": {
                "type": "object",
                "required": ["scene"],
                "properties": {
                    "scene": {"type": "string", "description": "a path under the server's --root"},
                    "schedule": {"type": "string", "enum": ["fast", "reference"]},
                    "steps": {"type": "integer"}, "seed": {"type": "integer"},
                    "layers": {"type": "boolean", "default": True},
                },
            }},
        },
    },
}


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="dedit serve",
        version=__version__,
        description="Render .dedit scenes over HTTP: submit a scene with its pictures (or a path under the "
        "server's --root), follow its job, fetch the picture, its layers and its statistics. Every route "
        "needs `Authorization: Bearer TOKEN` when the server has a token. See spec/service.md.",
    )
    store, limits = service.store, service.limits

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    def job_of(job_id: str) -> Job:
        job = store.get(job_id)
        if job is None:
            raise RequestError(f"no render has the id {quote(job_id, LONG)}.", 404)
        return job

    def described(job: Job) -> dict[str, Any]:
        data = store.snapshot(job)[1]  # one consistent state: the worker may change the job meanwhile
        base = f"/v1/renders/{job.id}"
        data["urls"] = {"status": base, "events": f"{base}/events"}
        if data["state"] == "done":
            data["urls"].update({"image": f"{base}/image", "stats": f"{base}/stats"})
            if data["layers"]:
                data["urls"]["layers"] = f"{base}/layers"
                data["urls"]["layer_pictures"] = {name: f"{base}/layers/{name}" for name in data["layers"]}
        return data

    def finished_file(job: Job, path: Path, what: str) -> Path:
        if job.state != "done":
            why = "it failed (its problems say why)" if job.state == "failed" else f"it is {job.state}"
            raise RequestError(f"render {job.id} has no {what}: {why}.", 409)
        if not path.is_file():
            raise RequestError(f"render {job.id} has no {what}.", 404)
        return path

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.post("/v1/renders", status_code=202, openapi_extra=SUBMIT_BODY,
              summary="Submit a scene: its job is queued; answers its id")
    async def submit(request: Request) -> JSONResponse:
        service.runner.check_room()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):  # the latter: a path only
            job = await _from_form(request, service)
        elif kind == "application/json":
            job = await _from_json(request, service)
        else:
            raise RequestError("send the scene as multipart/form-data (a 'scene' file part and one part per "
                               "picture) or as a JSON body naming its path under --root.", 415)
        service.runner.enqueue(job)
        url = f"/v1/renders/{job.id}"
        return JSONResponse({"id": job.id, "state": job.state, "url": url}, status_code=202, headers={"Location": url})

    @app.get("/v1/renders", summary="Every render this server knows, oldest first")
    def renders() -> dict[str, Any]:
        return {"renders": [described(job) for job in store.all()]}

    @app.get("/v1/renders/{job_id}", summary="A render's state, progress, problems and statistics")
    def status(job_id: str) -> dict[str, Any]:
        return described(job_of(job_id))

    @app.get("/v1/renders/{job_id}/image", summary="The rendered PNG (with its dedit:* metadata)",
             response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
    def image(job_id: str) -> FileResponse:
        job = job_of(job_id)
        path = finished_file(job, store.folder(job.id) / RESULT, "picture")
        return FileResponse(path, media_type="image/png", filename=f"{job.id}.png")

    @app.get("/v1/renders/{job_id}/stats", summary="The render statistics (as dedit render --stats writes them)")
    def stats(job_id: str) -> FileResponse:
        job = job_of(job_id)
        return FileResponse(finished_file(job, store.folder(job.id) / STATS, "statistics"), media_type="application/json")

    @app.get("/v1/renders/{job_id}/layers", summary="The layers as one OpenRaster stack (GIMP, Krita)",
             response_class=FileResponse, responses={200: {"content": {"image/openraster": {}}}})
    def layers(job_id: str) -> FileResponse:
        job = job_of(job_id)
        path = finished_file(job, store.folder(job.id) / LAYERS / ORA, "layers (it was submitted with layers=false)")
        return FileResponse(path, media_type="image/openraster", filename=f"{job.id}.ora")

    @app.get("/v1/renders/{job_id}/layers/{name}", summary="One layer as an RGBA PNG: background or a layer's id",
             response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
    def layer(job_id: str, name: str) -> FileResponse:
        job = job_of(job_id)
        if job.state == "done" and name not in job.layers:
            raise RequestError(f"render {job.id} has no layer {quote(name, LONG)}.", 404)
        file = "background.png" if name == "background" else f"layer-{name}.png"
        return FileResponse(finished_file(job, store.folder(job.id) / LAYERS / file, f"layer {quote(name, LONG)}"),
                            media_type="image/png")

    @app.get("/v1/renders/{job_id}/events", summary="Server-sent events: the status on every change, until it ends",
             response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
    def events(job_id: str) -> StreamingResponse:
        job = job_of(job_id)
        return StreamingResponse(_events(store, job), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.delete("/v1/renders/{job_id}", status_code=204, summary="Forget a render and its files (not while it runs)")
    def delete(job_id: str) -> Response:
        job = job_of(job_id)
        if store.delete(job.id) is not None:
            raise RequestError(f"render {job.id} is running; it can be deleted once it has finished.", 409)
        return Response(status_code=204)

    return app


async def _events(store: JobStore, job: Job) -> AsyncIterator[str]:
    """`event: status` with the status JSON at once and after every change; the stream ends after the state
    becomes done or failed (or `event: deleted` when the job is deleted meanwhile)."""
    seen, quiet = -1, 0.0
    while True:
        version, data = store.snapshot(job)
        if version != seen:
            seen, quiet = version, 0.0
            yield f"event: status\ndata: {json.dumps(data)}\n\n"
            if data["state"] in FINISHED:
                return
        elif store.get(job.id) is None:
            yield f"event: deleted\ndata: {json.dumps({'id': job.id})}\n\n"
            return
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": still working\n\n"
        await asyncio.sleep(EVENT_POLL_S)
        quiet += EVENT_POLL_S


async def _from_form(request: Request, service: Service) -> Job:
    limits = service.limits
    # the guard bounds the whole body; the scene and one picture more than allowed are let through, so that
    # submit.check_upload says what is wrong in its own sentence
    form = await request.form(max_files=limits.max_files + 2, max_fields=len(OPTION_FIELDS) + 1)
    try:
        scene = form.get("scene")
        if len(form.getlist("scene")) > 1:
            raise RequestError("the request has more than one 'scene' part; one render takes one scene.")
        fields: dict[str, Any] = {}
        files: dict[str, UploadFile] = {}
        for key, value in form.multi_items():
            if key == "scene":
                continue
            if isinstance(value, UploadFile):
                if key in files:
                    raise RequestError(f"the part {quote(key, LONG)} is given twice.")
                files[key] = value
            else:
                fields[key] = value
        options = render_options(fields, from_form=True)
        if isinstance(scene, str):
            if files:
                raise RequestError("a scene named by path takes its pictures from --root; send no picture parts with it.")
            return await run_in_threadpool(new_path_job, service.store, service.root, scene, options)
        if not isinstance(scene, UploadFile):
            raise RequestError("the request has no 'scene' part: send the document as a file part named 'scene'.")
        for key, part in files.items():
            if part.size is not None and part.size > limits.max_part:  # before reading it into memory
                raise RequestError(f"the part {quote(key, LONG)} is {part.size} bytes, more than the limit of "
                                   f"{limits.max_part} bytes per picture (--max-part).", 413)
        upload = Upload(scene_file_name(scene.filename), await scene.read(),
                        {key: await part.read() for key, part in files.items()})
        return await run_in_threadpool(new_upload_job, service.store, upload, options, limits)
    finally:
        await form.close()


async def _from_json(request: Request, service: Service) -> Job:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise RequestError("the body is not JSON; send {\"scene\": \"path/under/root.dedit\"}.") from None
    if not isinstance(body, dict) or "scene" not in body:
        raise RequestError("the JSON body needs a \"scene\": a path under the server's --root.")
    scene = body.pop("scene")
    options = render_options(body, from_form=False)
    return await run_in_threadpool(new_path_job, service.store, service.root, scene, options)
