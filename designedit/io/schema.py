"""Schemas for both forms, generated from the scene model: JSON Schema (2020-12) and RELAX NG.

    python -m designedit.io.schema            # rewrite schemas/ in the project
    python -m designedit.io.schema --check    # exit 1 if the checked-in schemas differ

The schemas check structure and the lexical form of values (numbers, lengths,
ids, booleans, ranges where the schema language can say them). What needs the
whole document or the disk (references, `use` cycles, files, size limits) is
checked by the readers only.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from designedit.model import scene as m
from designedit.model import vocab

JSON_SCHEMA_NAME = "dedit-1.schema.json"
RELAX_NG_NAME = "dedit-1.rng"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

# XSD regular expressions (implicitly anchored, no non-capturing groups).
_NUMBER = r"[+\-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+\-]?[0-9]+)?"
_PERCENT = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)%"
_LENGTH = f"({_NUMBER})|({_PERCENT})"
_ID = m.ID_RE.strip("^$")


# ------------------------------------------------------------------ JSON Schema


def _tag_required(schema: dict) -> None:
    for owner in vocab.CHILD_LISTS:
        tag_field = vocab.CHILD_LISTS[owner][1]
        for member in vocab.tagged_members(owner).values():
            node = schema["$defs"][member.__name__]
            node["required"] = [tag_field] + [r for r in node.get("required", []) if r != tag_field]


def _drop_field_titles(node: Any) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for value in props.values():
                if isinstance(value, dict):
                    value.pop("title", None)
        for value in node.values():
            _drop_field_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_field_titles(value)


def json_schema() -> dict:
    schema = copy.deepcopy(m.Scene.model_json_schema())
    _drop_field_titles(schema)
    props = schema["properties"]
    version = props.pop("version")
    version["description"] = "Format version, MAJOR.MINOR. Readers of 1.x accept newer minor versions with a warning."
    schema["properties"] = {vocab.VERSION_KEY: version, **props}
    schema["required"] = [vocab.VERSION_KEY if r == "version" else r for r in schema["required"]]
    _tag_required(schema)
    schema["$defs"]["Mask"]["anyOf"] = [
        {"required": ["src"]},
        {"required": ["shapes"], "properties": {"shapes": {"minItems": 1}}},
    ]
    per_axis = {"anyOf": [{"required": ["scale-x"]}, {"required": ["scale-y"]}]}
    schema["$defs"]["Resize"]["oneOf"] = [  # scale, or scale-x and/or scale-y, never both forms
        {"required": ["scale"], "not": per_axis},
        {**per_axis, "not": {"required": ["scale"]}},
    ]
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": ".dedit scene, format 1.x, JSON form",
        "description": "Generated from designedit/model/scene.py by `python -m designedit.io.schema`; do not edit. "
        "See spec/format.md for what the schema cannot check (references, files, size limits).",
    }
    out.update({k: v for k, v in schema.items() if k != "title"})
    return out


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ RELAX NG


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _data(type_: str, **params: Any) -> str:
    inner = "".join(f'<param name="{k}">{_esc(str(v))}</param>' for k, v in params.items() if v is not None)
    return f'<data type="{type_}">{inner}</data>' if inner else f'<data type="{type_}"/>'


def _facets(f: vocab.FieldKind) -> dict:
    facets = {}
    if f.low is not None:
        facets["minExclusive" if f.low[0] == "gt" else "minInclusive"] = vocab.format_number(f.low[1])
    if f.high is not None:
        facets["maxExclusive" if f.high[0] == "lt" else "maxInclusive"] = vocab.format_number(f.high[1])
    return facets


def _value_pattern(model: type[BaseModel], f: vocab.FieldKind) -> str:
    if f.kind == "length":
        return '<ref name="t.length"/>'
    if f.kind == "number":
        return _data("double", pattern=_NUMBER, **_facets(f))
    if f.kind == "int":
        return _data("integer", **_facets(f))
    if f.kind == "bool":
        return "<choice><value>true</value><value>false</value></choice>"
    if f.kind == "choice":
        return "<choice>" + "".join(f"<value>{_esc(str(c))}</value>" for c in f.choices) + "</choice>"
    if f.kind == "id":
        return '<ref name="t.id"/>'
    if f.kind == "ref":
        return '<ref name="t.ref"/>'
    if f.kind == "points":
        pair = f"\\s*({_LENGTH}),({_LENGTH})"
        return _data("string", pattern=f"{pair}(\\s+({_LENGTH}),({_LENGTH})){{2,}}\\s*")
    if model is m.Scene and f.name == "version":
        return _data("token", pattern=r"[0-9]+\.[0-9]+")
    return _data("string", minLength=1)


def _attribute(model: type[BaseModel], f: vocab.FieldKind) -> str:
    attr = f'<attribute name="{f.name}">{_value_pattern(model, f)}</attribute>'
    return attr if f.required else f"<optional>{attr}</optional>"


def _element(tag: str, model: type[BaseModel], indent: str) -> list[str]:
    lines = [f'{indent}<define name="e.{tag}">', f'{indent}  <element name="{tag}">']
    inner = indent + "    "
    children = None
    for f in vocab.fields(model):
        if f.kind == "tag":
            continue
        if f.kind == "children":
            members = vocab.tagged_members(model)
            children = "<choice>" + "".join(f'<ref name="e.{t}"/>' for t in members) + "</choice>"
            continue
        if model is m.Mask and f.name == "src":
            continue  # written below with the shapes: a mask needs a picture or a shape
        if model is m.Resize and f.name in ("scale", "scale-x", "scale-y"):
            continue  # written below: scale, or scale-x and/or scale-y
        lines.append(inner + _attribute(model, f))
    if model is m.Resize:
        scale, sx, sy = (_attribute(model, vocab.field(model, n)).replace("<optional>", "").replace("</optional>", "")
                         for n in ("scale", "scale-x", "scale-y"))
        lines.append(f"{inner}<choice>{scale}<group>{sx}<optional>{sy}</optional></group>{sy}</choice>")
    if model is m.Mask:
        src = _attribute(model, vocab.field(model, "src")).replace("<optional>", "").replace("</optional>", "")
        lines.append(f"{inner}<choice><group>{src}<zeroOrMore>{children}</zeroOrMore></group>"
                     f"<oneOrMore>{children}</oneOrMore></choice>")
    elif children is not None:
        lines.append(f"{inner}<zeroOrMore>{children}</zeroOrMore>")
    if len(lines) == 2:
        lines.append(f"{inner}<empty/>")
    lines += [f"{indent}  </element>", f"{indent}</define>"]
    return lines


def relax_ng_text() -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- .dedit scene, format 1.x, XML form (RELAX NG).",
        "     Generated from designedit/model/scene.py by `python -m designedit.io.schema`; do not edit.",
        "     See spec/format.md for what a schema cannot check (references, files, size limits). -->",
        '<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">',
        '  <start><ref name="e.dedit"/></start>',
        '  <define name="e.dedit">',
        f'    <element name="{vocab.ROOT_TAG}">',
        f'      <attribute name="version">{_value_pattern(m.Scene, vocab.field(m.Scene, "version"))}</attribute>',
        "      <interleave>",
    ]
    for tag, (field_name, many) in vocab.TOP_ELEMENTS.items():
        f = vocab.field(m.Scene, field_name)
        ref = f'<ref name="e.{tag}"/>'
        if many:
            lines.append(f"        <zeroOrMore>{ref}</zeroOrMore>")
        elif f.required:
            lines.append(f"        {ref}")
        else:
            lines.append(f"        <optional>{ref}</optional>")
    lines += ["      </interleave>", "    </element>", "  </define>"]
    lines += ['  <define name="e.prompt">', '    <element name="prompt"><text/></element>', "  </define>"]
    for tag, (field_name, _many) in vocab.TOP_ELEMENTS.items():
        if tag == "prompt":
            continue
        model = vocab.field(m.Scene, field_name).model
        lines += _element(tag, model, "  ")
        if model in vocab.CHILD_LISTS:
            for child_tag, member in vocab.tagged_members(model).items():
                lines += _element(child_tag, member, "  ")
    lines += [
        f'  <define name="t.length">{_data("token", pattern=_LENGTH)}</define>',
        f'  <define name="t.id">{_data("string", pattern=_ID, maxLength=128)}</define>',
        f'  <define name="t.ref">{_data("string", minLength=1, maxLength=128)}</define>',
        "</grammar>",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ command


def generated() -> dict[str, str]:
    return {JSON_SCHEMA_NAME: json_schema_text(), RELAX_NG_NAME: relax_ng_text()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m designedit.io.schema", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the schemas on disk differ from the model")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help=f"schema folder (default: {SCHEMA_DIR})")
    args = parser.parse_args(argv)
    stale = []
    for name, text in generated().items():
        path = args.dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}", file=sys.stderr)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
