"""Turning a POST /v1/renders into a job: an uploaded scene with its pictures, or a scene named by path.

An upload's parts are checked before anything stays on disk: the scene part is a document of at most the
reader's size; every other part is a picture the scene references, named exactly as it does (a name that
leaves the job's folder, or that the scene does not name, is refused), each at most `max_part` bytes. The
whole request is bounded by the HTTP guard (`max_upload`). A scene that cannot be read still makes a job,
failed at once with the reader's located problems, as `dedit render` would print them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from designedit.checks import arguments
from designedit.errors import ArgumentError, RequestError, SceneError
from designedit.model.quoting import LONG, quote
from designedit.rendering.atomic import atomic_write_bytes
from designedit.service.jobs import INPUTS, Job, JobStore, new_id, now

_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
DEFAULT_SCENE_NAME = "scene.dedit"
OPTION_FIELDS = ("schedule", "steps", "seed", "layers")


@dataclass(frozen=True)
class Limits:
    """What one server accepts: `max_upload` bytes in a whole request (enforced by the HTTP guard),
    `max_part` bytes per picture, `max_files` pictures per scene, `max_queue` jobs waiting."""

    max_upload: int = 64 << 20
    max_part: int = 32 << 20
    max_files: int = 64
    max_queue: int = 32


def render_options(given: dict[str, Any], from_form: bool) -> dict[str, Any]:
    """The per-job settings (schedule, steps, seed: as `dedit render`'s flags; layers: write the layers,
    default yes), checked as the CLI checks them; RequestError (400) with the same sentence otherwise."""
    unknown = sorted(set(given) - set(OPTION_FIELDS))
    if unknown:
        raise RequestError(f"{quote(unknown[0], LONG)} is not a setting of a render; use {', '.join(OPTION_FIELDS)}.")
    options: dict[str, Any] = {"layers": True}
    try:
        for key, check in (("schedule", arguments.schedule), ("steps", arguments.steps), ("seed", arguments.seed)):
            value = given.get(key)
            if value is None or value == "":
                continue
            if from_form and key != "schedule":  # a form's fields are text, as on the command line
                value = arguments.from_text(value, "the step count" if key == "steps" else "the seed")
            options[key] = check(value)
    except ArgumentError as exc:
        raise RequestError(str(exc)) from None
    layers = given.get("layers")
    if layers is not None:
        options["layers"] = _flag(layers)
    return options


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise RequestError(f"layers must be true or false, not {quote(str(value), LONG)}.")


def referenced_names(raw: bytes, label: str) -> set[str]:
    """The picture references of a scene (its images' and masks' `src`), read without its files; SceneError
    with the reader's located problems when the document itself is bad."""
    from designedit.io import read

    scene = read(raw, label, None, check_files=False).scene
    return {item.src for item in [*scene.images, *scene.masks] if getattr(item, "src", None)}


def part_path(name: str) -> Optional[str]:
    """Where in the inputs folder a picture part named `name` goes: the name normalised ("./a.png" is
    "a.png"), or None when it is not a plain relative path that stays inside (an absolute path, `..`, a
    backslash, a NUL, a hidden name the atomic writer could collide with)."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return None
    normal = posixpath.normpath(name)
    parts = PurePosixPath(normal).parts
    if normal in (".", "") or parts[0] == ".." or any(p.startswith(".") for p in parts):
        return None
    return normal


def scene_file_name(filename: Optional[str]) -> str:
    """The uploaded scene's own name when it is a plain file name (problems are located by it, as
    `dedit render NAME` locates them), else scene.dedit."""
    name = (filename or "").rsplit("/", 1)[-1]
    return name if _SAFE_FILE_NAME.match(name) and part_path(name) == name else DEFAULT_SCENE_NAME


@dataclass
class Upload:
    """An upload's parts as received: the scene's name and bytes, and each picture's name and bytes."""

    scene_name: str
    scene: bytes
    pictures: dict[str, bytes]


def check_upload(upload: Upload, limits: Limits) -> tuple[Optional[dict[str, str]], Optional[SceneError]]:
    """The pictures as {path in the inputs folder: the name the scene uses}, or the SceneError of a scene
    that cannot be read (then no picture is kept). RequestError for a part that cannot be taken."""
    from designedit.io import MAX_DOCUMENT_BYTES

    if len(upload.scene) > MAX_DOCUMENT_BYTES:
        raise RequestError(f"the scene part is {len(upload.scene)} bytes, more than a document may be "
                           f"({MAX_DOCUMENT_BYTES} bytes).", 413)
    if len(upload.pictures) > limits.max_files:
        raise RequestError(f"the upload has {len(upload.pictures)} pictures, more than the limit of "
                           f"{limits.max_files}.", 413)
    for name, data in upload.pictures.items():
        if len(data) > limits.max_part:
            raise RequestError(f"the part {quote(name, LONG)} is {len(data)} bytes, more than the limit of "
                               f"{limits.max_part} bytes per picture (--max-part).", 413)
    try:
        referenced = referenced_names(upload.scene, upload.scene_name)
    except SceneError as exc:
        return None, exc
    places: dict[str, str] = {}
    for name in upload.pictures:
        where = part_path(name)
        if where is None:
            raise RequestError(f"the part {quote(name, LONG)} is not a file name inside the job's folder; "
                               "name each picture part as the scene references it (relative, without '..').")
        if name not in referenced:
            listed = ", ".join(quote(n, LONG) for n in sorted(referenced)) or "none"
            raise RequestError(f"the part {quote(name, LONG)} is not a picture the scene references "
                               f"(it references {listed}).")
        if where == upload.scene_name:
            raise RequestError(f"the part {quote(name, LONG)} has the scene's own file name; rename the scene part.")
        if where in places:
            raise RequestError(f"the parts {quote(places[where], LONG)} and {quote(name, LONG)} name the same file.")
        places[where] = name
    return places, None


def new_upload_job(store: JobStore, upload: Upload, options: dict[str, Any], limits: Limits) -> Job:
    """Check an upload and write its files into a new job's folder (the status last); the job is queued,
    or failed already when the scene cannot be read."""
    places, bad_scene = check_upload(upload, limits)
    job = Job(id=new_id(), source="upload", scene=upload.scene_name, options=options)
    inputs = store.folder(job.id) / INPUTS
    try:
        atomic_write_bytes(inputs / upload.scene_name, upload.scene)
        if bad_scene is not None:
            fail_at_once(job, bad_scene)
        else:
            for where, name in (places or {}).items():
                atomic_write_bytes(inputs / where, upload.pictures[name])
        store.add(job)
    except BaseException:  # a full disk: no job, and no folder of one
        store.remove(job.id)
        raise
    return job


def new_path_job(store: JobStore, root: Optional[Path], name: Any, options: dict[str, Any]) -> Job:
    """A job for the scene at `name`, a path under the server's --root (read when the job runs)."""
    if root is None:
        raise RequestError("this server was started without --root, so it renders uploaded scenes only; "
                           "send the scene as a multipart 'scene' file part.")
    if not isinstance(name, str) or part_path(name) is None:
        raise RequestError(f"the scene path {quote(str(name), LONG)} is not a relative path inside the served "
                           "folder (--root).")
    target = (root / name).resolve()
    if root.resolve() not in target.parents:
        raise RequestError(f"the scene path {quote(name, LONG)} leads outside the served folder (--root).")
    job = Job(id=new_id(), source="path", scene=name, options=options)
    store.folder(job.id).mkdir(parents=True, exist_ok=True)
    store.add(job)
    return job


def fail_at_once(job: Job, error: SceneError) -> None:
    job.state, job.problems, job.exit_status, job.finished = "failed", [str(p) for p in error.problems], 2, now()
