"""Vocabulary that minor versions added: a document of an older version may not use it.

A 1.0 document is read exactly as 1.0 was; `scale-x` in one is refused where it is written, in a sentence
that says which version it needs (the author means the newer version and should say so).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from pydantic import BaseModel

from designedit.model import scene as m
from designedit.model import vocab

# (model, document name) -> the format version that added it
SINCE: dict[tuple[type[BaseModel], str], tuple[int, int]] = {
    (m.Resize, "scale-x"): (1, 1),
    (m.Resize, "scale-y"): (1, 1),
    # 1.2 added placeholders in picture srcs (io.placeholders checks those); 1.3 the attention shape
    (m.Attention, "shape"): (1, 3),  # the shape itself: reported by its tag ("attention needs ...")
}


def parse(version: Any) -> Optional[tuple[int, int]]:
    """(major, minor) of a well-formed version, else None (the reader reports a bad one)."""
    if not isinstance(version, str):
        return None
    parts = version.split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return m.version_number(parts[0]), m.version_number(parts[1])  # thousands of digits: no int() limit


def problems(data: Any, report: Callable[[tuple, str], None], form: str) -> None:
    """Report each use of vocabulary newer than the document's version."""
    version = parse(data.get("version")) if isinstance(data, dict) else None
    if version is None:
        return
    key = "version" if form == "xml" else vocab.VERSION_KEY

    def walk(node: Any, model: type[BaseModel], path: tuple) -> None:
        if not isinstance(node, dict):
            return
        for name, value in node.items():
            since = SINCE.get((model, name))
            if since is not None and version < since:
                need = f"{since[0]}.{since[1]}"
                how = f'version="{need}"' if form == "xml" else f'"{key}": "{need}"'
                what = value if name in ("shape", "op") and isinstance(value, str) else name
                report(path + (name,), f"{what} needs format version {need} or later; this document says "
                       f"{data['version']}: write {how} to use it")
            f = vocab.field(model, name)
            if f is None:
                continue
            if f.kind == "object":
                walk(value, f.model, path + (name,))
            elif f.kind in ("objects", "children") and isinstance(value, list):
                members = vocab.tagged_members(model) if f.kind == "children" else {}
                tag = vocab.CHILD_LISTS[model][1] if f.kind == "children" else ""
                for i, item in enumerate(value):
                    kind = item.get(tag) if isinstance(item, dict) else None
                    sub = f.model if f.kind == "objects" else (members.get(kind) if isinstance(kind, str) else None)
                    if sub is not None:
                        walk(item, sub, path + (name, i))

    walk(data, m.Scene, ())


def check(scene: m.Scene, where: Callable[[tuple], str]) -> None:
    """Raise SceneError if a scene (built in code, say) uses vocabulary newer than its version."""
    from designedit.errors import Problem, SceneError

    found: list[Problem] = []
    problems(scene.model_dump(by_alias=True), lambda path, msg: found.append(Problem(where(path), msg)), "json")
    if found:
        raise SceneError(found)
