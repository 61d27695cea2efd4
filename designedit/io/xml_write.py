"""The XML form's canonical writer: stable order, 2-space indentation, minimal numbers, defaults left out, and
the document's comments put back before the elements they preceded."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel

from designedit.io import xml_comments
from designedit.model import scene as m
from designedit.model import vocab


def _escape_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
    )


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr_value(value: Any, f: vocab.FieldKind) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return vocab.format_number(value)
    if isinstance(value, str):
        return value
    if f.kind == "points":
        return " ".join(",".join(_attr_value(c, f) for c in pair) for pair in value)
    return str(value)


def _open_tag(tag: str, node: BaseModel) -> tuple[str, list]:
    """The start tag text (without '>' / '/>') and the child items to write inside."""
    parts = [tag]
    children: list = []
    model = type(node)
    for f in vocab.fields(model):
        value = getattr(node, f.attr)
        if f.kind == "tag":
            continue
        if f.kind == "children":
            children = list(value)
            continue
        if value is None or (not f.required and value == f.default):
            continue  # defaults are left out, so documents stay short and diffs small
        parts.append(f'{f.name}="{_escape_attr(_attr_value(value, f))}"')
    return " ".join(parts), children


def _write_node(tag: str, node: BaseModel, indent: str, out: list[str], placer: xml_comments.Placer, path: tuple) -> None:
    out.extend(xml_comments.lines(placer.before(path), indent))
    head, children = _open_tag(tag, node)
    trailing = placer.end(path)
    if not children and not trailing:
        out.append(f"{indent}<{head}/>")
        placer.after(path, out)
        return
    out.append(f"{indent}<{head}>")
    tag_field = vocab.CHILD_LISTS[type(node)][1] if children else ""
    counts: dict[str, int] = {}
    for child in children:
        child_tag = getattr(child, tag_field)
        _write_node(child_tag, child, indent + "  ", out, placer, placer.child_path(path, counts, child_tag))
    out.extend(xml_comments.lines(trailing, indent + "  "))
    out.append(f"{indent}</{tag}>")
    placer.after(path, out)


def write(scene: m.Scene, comments: Optional[xml_comments.Comments] = None) -> str:
    """The canonical text; `comments` (from reading) are put back before the elements they preceded."""
    placer = xml_comments.Placer(comments)
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.extend(xml_comments.lines(placer.comments.prolog, ""))
    out.append(f'<{vocab.ROOT_TAG} version="{_escape_attr(scene.version)}">')
    counts: dict[str, int] = {}
    for f in vocab.fields(m.Scene):
        if f.name == "version":
            continue
        value = getattr(scene, f.attr)
        tag = vocab.FIELD_ELEMENT[f.name]
        if value is None:
            continue
        if f.name == "prompt":
            path = placer.child_path((), counts, tag)
            # the prompt holds text only: a comment inside it moves to just before it
            out.extend(xml_comments.lines(placer.before(path) + placer.end(path), "  "))
            out.append(f"  <prompt>{_escape_text(value)}</prompt>")
            placer.after(path, out)
        elif f.kind == "objects":
            for item in value:
                _write_node(tag, item, "  ", out, placer, placer.child_path((), counts, tag))
        else:
            _write_node(tag, value, "  ", out, placer, placer.child_path((), counts, tag))
    out.extend(xml_comments.lines(placer.end(()) + placer.leftover(), "  "))
    out.append(f"</{vocab.ROOT_TAG}>")
    out.extend(xml_comments.lines(placer.comments.epilog, ""))
    return "\n".join(out) + "\n"
