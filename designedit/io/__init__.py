"""Reading and writing `.dedit` documents in both forms.

    load(path, root=None, check_files=True) -> Scene
    load_text(text, name, base, root=None, check_files=True) -> Scene
    dump(scene, form) -> str            # "xml" | "json", canonical
    detect_form(text) -> "xml" | "json"

The form is told by content (the first character that is not white space:
`<` or `{`), never by the file name. Every problem of a document is collected
and raised at once as a SceneError, each located (`file:line:col` for XML,
`file#/json/pointer` for JSON) with one plain sentence.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

from pydantic import ValidationError

from designedit.model import scene as m
from designedit.checks import refs
from designedit.errors import Problem, SceneError
from designedit.checks.paths import unreadable_reason
from designedit.model.quoting import escape, shorten
from designedit.io import encoding, json_form, messages, placeholders, versions, xml_comments, xml_form, xml_write
from designedit.model.source import LocatedOrigin, SourceMap

__all__ = ["load", "load_text", "read", "dump", "detect_form", "FormatWarning", "Loaded", "MAX_DOCUMENT_BYTES",
           "read_document_bytes"]

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # a scene is a few kB; anything this large is not one
FORMS = ("xml", "json")


class FormatWarning(UserWarning):
    """A document loaded, but with a note for its author (a newer minor version of the format)."""


@dataclass
class Loaded:
    scene: m.Scene
    form: str
    notes: list[str] = field(default_factory=list)
    comments: Optional[xml_comments.Comments] = None  # an XML document's comments, for writers that keep them
    raw: Optional[bytes] = None  # the bytes read, when read from a file (fmt compares its rewrite with them)


def detect_form(text: str) -> Optional[str]:
    """'xml' when the first non-white-space character is '<', 'json' when it is '{', else None."""
    stripped = text.lstrip(" \t\r\n\ufeff")
    if stripped.startswith("<"):
        return "xml"
    if stripped.startswith("{"):
        return "json"
    return None


def _check_version(data: dict, source: SourceMap) -> list[str]:
    """Refuse a newer major version (nothing else is reported then); note a newer minor version."""
    version = data.get("version")
    parsed = versions.parse(version)
    if parsed is None:  # not a version: the model reports it
        return []
    major, minor = parsed
    known_major, known_minor = (int(p) for p in m.FORMAT_VERSION.split("."))
    version = shorten(version)
    if major > known_major:
        where = source.locate(("version",))[1]
        raise SceneError(Problem(where, f"format version {version} is newer than this reader, which reads {known_major}.x; upgrade dedit to read it"))
    if major == known_major and minor > known_minor:
        return [f"format version {version} is newer than this reader ({m.FORMAT_VERSION}); it is read as {m.FORMAT_VERSION}, and anything newer is refused"]
    return []


def read(raw: Union[bytes, str], label: str, origin: Optional[m.Origin], check_files: bool = True,
         values: Optional[Mapping[str, str]] = None, template: bool = False) -> Loaded:
    """Parse, validate and check one document; raise SceneError with every problem found.

    The path rules of file references (spec/format.md 8) and the numeric limits always apply;
    `check_files=False` only skips opening the pictures. A 1.2 template's placeholders (io.placeholders)
    are filled with `values`, or kept with `template=True` (their files unchecked), else refused."""
    from designedit.checks import files as validate, limits  # imported on the first read only

    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise SceneError(Problem(label, f"the document is more than {MAX_DOCUMENT_BYTES} bytes, the limit"))
    if origin is not None:
        why = validate.root_problem(origin)
        if why is not None:
            raise SceneError(Problem(label, why))
    text, text_encoding = encoding.decode(raw, label)
    form = detect_form(text)
    if form is None:
        what = "is empty" if not text.strip() else "is neither XML (starting with '<') nor JSON (starting with '{')"
        raise SceneError(Problem(label, f"the document {what}"))
    if form == "json" and text_encoding != encoding.UTF8:  # RFC 8259 8.1: JSON exchanged between systems is UTF-8
        raise SceneError(Problem(label, f"the document is JSON in {text_encoding}; JSON documents must be UTF-8"))
    source = SourceMap(label, form)
    try:
        comments = None
        if form == "xml":
            data, comments = xml_form.read(text.lstrip("\ufeff"), text_encoding, source)
        else:
            data = json_form.read(text.lstrip("\ufeff"), source)
        if data is None:
            source.raise_if_any()
            raise SceneError(Problem(label, "the document could not be read"))  # pragma: no cover - readers always report
        notes = _check_version(data, source)
        kept = placeholders.apply(data, versions.parse(data.get("version")), values, template, source.report)
        scene = None
        try:
            scene = m.Scene.model_validate(data, context={"form": form})  # keys as the document wrote them
        except ValidationError as exc:
            messages.explain(exc, data, source)
        limits.problems(data, source.report, source.is_reported)
        versions.problems(data, source.report, form)
        refs.problems(data, source.report)
        if origin is not None:
            # one problem per place: a src the model refused already (empty, not text) is not checked as a file
            def report_new(path, message: str) -> None:
                if tuple(path) not in source.reported:
                    source.report(path, message)

            validate.problems(_without(data, kept), origin, report_new, open_pictures=check_files)
    except RecursionError:
        raise SceneError(Problem(label, "the document nests too deeply")) from None
    if source.problems and notes:
        # a newer minor version is what explains unknown vocabulary: say so before the problems
        version = shorten(data.get("version"))
        source.report_at(
            source.locate(("version",))[1],
            f"note: format version {version} is newer than this reader ({m.FORMAT_VERSION}); "
            f"what it adds is unknown here, so it is refused as below",
            order=-2,
        )
    source.raise_if_any()
    assert scene is not None
    if origin is not None:
        scene.with_origin(LocatedOrigin(origin.path, origin.base, origin.root, source.locator()))
    for note in notes:
        warnings.warn(f"{label}: {note}", FormatWarning, stacklevel=3)
    return Loaded(scene, form, notes, comments)


def _without(data: dict, kept: set[tuple]) -> dict:
    """`data` with the srcs kept as placeholders left out (a template's pictures are a row's to name)."""
    if not kept:
        return data
    data = dict(data)
    for key, i, _ in kept:
        data[key] = [dict(item) if n == i else item for n, item in enumerate(data[key])]
        data[key][i].pop("src", None)
    return data


def _origin(path: Optional[Path], base: Path, root: Optional[Union[str, Path]]) -> m.Origin:
    base = Path(base).absolute()
    return m.Origin(path, base=base, root=Path(root).absolute() if root is not None else base)


_NOT_REGULAR = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")]


def read_document_bytes(path: Union[str, Path]) -> bytes:
    """A document's bytes (at most MAX_DOCUMENT_BYTES + 1, enough to tell it is too long), or SceneError.

    Only a regular file is read: it is opened without blocking (a FIFO with no writer would wait forever) and
    checked on the open descriptor (no window for a swap between a check and the open)."""
    label = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SceneError(Problem(label, "the file does not exist")) from None
    except OSError as exc:
        raise SceneError(Problem(label, f"the file cannot be read ({unreadable_reason(exc)})")) from None
    except ValueError:  # a NUL in the name: no file can have it
        raise SceneError(Problem(escape(label), "a file name cannot hold a NUL character")) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
            raise SceneError(Problem(label, f"this is {what}, not a .dedit document"))
        chunks, left = [], MAX_DOCUMENT_BYTES + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SceneError(Problem(label, f"the file cannot be read ({unreadable_reason(exc)})")) from None
    finally:
        os.close(fd)


def read_file(path: Union[str, Path], root: Optional[Union[str, Path]] = None, check_files: bool = True,
              values: Optional[Mapping[str, str]] = None, template: bool = False) -> Loaded:
    path = Path(path)
    raw = read_document_bytes(path)
    loaded = read(raw, str(path), _origin(path, path.absolute().parent, root), check_files, values, template)
    loaded.raw = raw
    return loaded


def load(path: Union[str, Path], root: Optional[Union[str, Path]] = None, check_files: bool = True) -> m.Scene:
    """Load a `.dedit` document (either form). File references resolve against its folder, confined to `root`
    (default: that folder). With `check_files`, every picture must exist and decode."""
    return read_file(path, root, check_files).scene


def load_text(
    text: Union[str, bytes],
    name: str = "<text>",
    base: Union[str, Path] = ".",
    root: Optional[Union[str, Path]] = None,
    check_files: bool = True,
) -> m.Scene:
    """Load a document held in memory; `name` labels problems, `base` is the folder references resolve against."""
    return read(text, name, _origin(None, Path(base), root), check_files).scene


def dump(scene: m.Scene, form: str = "xml", comments: Optional[xml_comments.Comments] = None) -> str:
    """The canonical text of a scene: stable order, 2-space indentation, minimal numbers, defaults left out.
    XML keeps `comments` (a `Loaded.comments`) before the elements they preceded; JSON has none."""
    if form == "xml":
        return xml_write.write(scene, comments)
    if form == "json":
        return json_form.write(scene)
    raise ValueError(f"unknown form {form!r}; expected 'xml' or 'json'")
