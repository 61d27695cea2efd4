"""Reference checks: ids are unique, every reference names an existing thing of the right kind, no `use` cycles.

The checks read the document in its JSON shape (a dict), so they also run on
documents that failed other checks: a user sees every problem at once.
Anything malformed is skipped here (the model checks report it).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from designedit.model import scene as m
from designedit.errors import Problem, SceneError
from designedit.model.words import word_span
from designedit.model.quoting import escape, quote, shorten

Report = Callable[[tuple, str], None]

_KIND_LIST = {"image": "images", "mask": "masks"}
_ARTICLE = {"image": "an image", "mask": "a mask", "layer": "a layer"}


def _items(data: dict, key: str) -> list[tuple[int, dict]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _ids(data: dict, key: str, kind: str, report: Report) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, item in _items(data, key):
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            report((key, i, "id"), f"another {kind} already has the id {quote(ident)}; ids of {kind}s must be unique")
        else:
            seen[ident] = i
    return seen


def problems(data: Any, report: Report) -> None:
    """Report every reference problem of a document given in its JSON shape."""
    if not isinstance(data, dict):
        return
    known = {
        "image": _ids(data, "images", "image", report),
        "mask": _ids(data, "masks", "mask", report),
    }
    _ids(data, "layers", "layer", report)

    def check(path: tuple, value: Any, kind: str) -> None:
        if not isinstance(value, str) or not value:
            return
        if value in known[kind]:
            return
        other = next((k for k in known if k != kind and value in known[k]), None)
        if other is not None:
            report(path, f"{quote(value)} is {_ARTICLE[other]}, but {path[-1]} must name {_ARTICLE[kind]}")
        else:
            report(path, f"no {kind} has the id {quote(value)}")

    background = data.get("background")
    if isinstance(background, dict):
        check(("background", "image"), background.get("image"), "image")
        for j, edit in _items(background, "edits"):
            if edit.get("op") == "remove":
                for key in ("mask", "refine"):
                    check(("background", "edits", j, key), edit.get(key), "mask")
    for i, layer in _items(data, "layers"):
        check(("layers", i, "image"), layer.get("image"), "image")
        for key in ("mask", "occluder"):
            check(("layers", i, key), layer.get(key), "mask")
    uses: dict[str, list[tuple[str, tuple]]] = {}
    prompt = data.get("prompt") if isinstance(data.get("prompt"), str) else None
    for i, mask in _items(data, "masks"):
        for j, shape in _items(mask, "shapes"):
            word = shape.get("word")
            if shape.get("shape") == "attention" and isinstance(word, str) and word.strip() and word_span(prompt, word) is None:
                report(("masks", i, "shapes", j, "word"), f"the prompt has no word {quote(word)}, so no attention to it can "
                       "select anything" if prompt else f"attention to {quote(word)} needs a prompt that has that word")
            if shape.get("shape") == "use":
                path = ("masks", i, "shapes", j, "mask")
                check(path, shape.get("mask"), "mask")
                if isinstance(mask.get("id"), str) and isinstance(shape.get("mask"), str):
                    uses.setdefault(mask["id"], []).append((shape["mask"], path))
    _cycles(uses, report)


def _cycles(uses: dict[str, list[tuple[str, tuple]]], report: Report) -> None:
    """Report each `use` that closes a cycle (depth-first search, each edge at most once; an explicit stack,
    so a chain of thousands of masks is no deeper for Python than one)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in list(uses):
        if state.get(start) is not None:
            continue
        state[start] = 1
        stack = [(start, iter(uses.get(start, [])))]
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            target, path = step
            if state.get(target) == 1:
                trail = [n for n, _ in stack[:-1]]
                loop = trail[trail.index(target):] + [node, target] if target in trail else [node, target]
                if target == node:
                    report(path, f"mask {quote(node)} uses itself")
                else:
                    report(path, "masks use each other in a cycle: " + " -> ".join(escape(shorten(name)) for name in _dedupe(loop)))
            elif state.get(target) is None and target in uses:
                state[target] = 1
                stack.append((target, iter(uses[target])))
            else:
                state.setdefault(target, 2)


def _dedupe(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if not out or out[-1] != name:
            out.append(name)
    return out


def check(scene: m.Scene, label: Optional[str] = None) -> None:
    """Raise SceneError if a scene built in code has reference problems (locations are JSON pointers)."""
    from designedit.model.source import json_pointer

    found: list[Problem] = []
    where = label or (str(scene.origin.path) if scene.origin and scene.origin.path else "<scene>")
    problems(scene.model_dump(), lambda path, msg: found.append(Problem(f"{where}#{json_pointer(path)}", msg)))
    if found:
        raise SceneError(found)
