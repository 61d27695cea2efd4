"""`draft_scene`: ask a language model for a scene, read its answer with dedit's own reader, send the located
problems back for at most `repairs` more answers, and write the scene atomically (spec/draft.md).

Nothing is sent anywhere but to the endpoint the caller names. The model's answer is only ever read as a
document (never run): the reader's checks, the path rules (file references stay in the scene's folder) and
the compiler decide whether it is a scene.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from designedit.draft import endpoint, prompt
from designedit.errors import DeditError, PictureError, Problem, SceneError, UsageError

MASK_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_MASKS = 64  # masks named to the model: their list stays a small part of the prompt
DEFAULT_REPAIRS = 2

_FENCED = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


@dataclass
class Endpoint:
    url: str
    model: str
    key: Optional[str] = None
    timeout: float = endpoint.DEFAULT_TIMEOUT_S


@dataclass
class Drafted:
    path: Path
    text: str  # what was written
    answers: int  # how many answers it took
    log: list[str] = field(default_factory=list)


Ask = Callable[[list[dict[str, Any]]], str]


def offered_masks(folder: Optional[Path], base: Path) -> list[tuple[str, str]]:
    """(src relative to `base`, what it is) for each picture in `folder`, by name."""
    if folder is None:
        return []
    if not folder.is_dir():
        raise UsageError(f"--masks {folder} is not a folder.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MASK_SUFFIXES)
    if len(files) > MAX_MASKS:
        raise UsageError(f"--masks {folder} holds {len(files)} pictures; at most {MAX_MASKS} can be offered.")
    offered = [(relative(p, base), f"a mask picture named {p.stem!r} (white selects)") for p in files]
    if any(src.startswith("../") for src, _ in offered):  # a scene may not reach out of its folder (format.md 8)
        raise UsageError(f"--masks {folder} is outside the scene's folder {base}; a scene can only name pictures inside it.")
    return offered


def relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def answer_document(answer: str) -> Optional[str]:
    """The JSON document in an answer: its last fenced block, else the text from its first '{' to its last '}'."""
    blocks = _FENCED.findall(answer)
    if blocks:
        return blocks[-1].strip()
    start, end = answer.find("{"), answer.rfind("}")
    return answer[start : end + 1] if 0 <= start < end else None


def problems_of(document: Optional[str], label: str, base: Path) -> tuple[list[Problem], Optional[Any]]:
    """(problems, scene): what dedit's reader and compiler say of `document` as the file `label` in `base`."""
    if document is None:
        return [Problem(label, "the answer holds no JSON document (give the whole scene in one ```json fenced block)")], None
    from designedit.compiler import compile_scene
    from designedit.io import load_text
    from designedit.masks.derived import Derived

    try:
        scene = load_text(document, label, base, check_files=True)
        compile_scene(scene, schedule=None, derived=Derived(stand_in=True))  # what only compiling finds
    except SceneError as exc:
        return list(exc.problems), None
    except (PictureError, DeditError) as exc:  # a picture it names cannot be used, say
        return [Problem(label, str(exc))], None
    return [], scene


def draft_scene(picture: Path, instruction: str, output: Path, ask: Ask, masks: Optional[Path] = None,
                repairs: int = DEFAULT_REPAIRS, note: Callable[[str], None] = lambda line: None) -> Drafted:
    """Ask (`ask(messages) -> answer text`) for a scene of `picture` doing `instruction`; write it to `output`
    (XML, or JSON for a .json name), atomically. SceneError with the last answer's problems when `repairs`
    repairs did not give a scene."""
    from designedit.draft.picture import data_url
    from designedit.io import dump
    from designedit.io.schema import json_schema_text
    from designedit.rendering.atomic import atomic_write_bytes

    if repairs < 0:
        raise UsageError(f"--repairs must be 0 or more, not {repairs}.")
    base = output.resolve().parent
    picture_src = relative(picture, base)
    if picture_src.startswith("../"):
        raise UsageError(f"the picture {picture} is outside the scene's folder {base}; write the scene beside it or above it (-o).")
    url, size = data_url(picture)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": prompt.system_message(json_schema_text())},
        prompt.user_message(instruction, picture_src, size, url, offered_masks(masks, base)),
    ]
    label = output.name
    found: list[Problem] = []
    for attempt in range(repairs + 1):
        answer = ask(messages)
        found, scene = problems_of(answer_document(answer), label, base)
        if not found:
            form = "json" if output.name.lower().endswith(".json") else "xml"
            text = dump(scene, form)
            atomic_write_bytes(output, text.encode("utf-8"))
            return Drafted(output, text, attempt + 1)
        note(f"answer {attempt + 1} has {len(found)} problem{'s' if len(found) > 1 else ''}"
             + ("; asking for a repair" if attempt < repairs else ""))
        messages += [{"role": "assistant", "content": answer}, prompt.repair_message([str(p) for p in found])]
    note(f"the language model's scene still has problems after {repairs} repair{'s' if repairs != 1 else ''}; nothing was written")
    raise SceneError(found)
