"""Plan objects to JSON values and back, driven by the dataclasses' type hints.

One generic codec instead of a hand-written decoder per class:

- a dataclass travels as an object of its fields in declaration order, then the
  properties its class names in `json_derived` (written for readers, skipped when
  read); a field missing when read takes its default;
- lists and tuples travel as arrays, dicts as objects, `Optional[X]` as X or null,
  scalars as they are (a `Literal` is checked when read);
- `Annotated[A | B | ..., Tagged(...)]` is one of several `Variant`s (frozen
  dataclasses declared `class A(Variant, kind="a")`), its `kind` written under the tag's key;
- `Annotated[X, Custom(encode, decode)]` has a form of its own (masks' compressed bytes).

What cannot be read raises a DeditError naming where in the plan it is.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import sys
import types
from dataclasses import dataclass
from typing import Annotated, Any, Callable, ClassVar, Literal, Optional, Union, get_args, get_origin, get_type_hints

from designedit.errors import DeditError

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10 (pydantic brings typing_extensions)
    from typing_extensions import dataclass_transform


@dataclass_transform(frozen_default=True)
class Variant:
    """One member of a tagged union: `class PanOp(Variant, kind="pan")` is a frozen dataclass whose
    `kind` names it in the JSON (the kind sits in the class line so that a union reads as a list)."""

    kind: ClassVar[str]

    def __init_subclass__(cls, kind: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = kind
        dataclass(frozen=True)(cls)


@dataclass(frozen=True)
class Tagged:
    """How a union of dataclasses travels: `{key: kind, ...fields}`.

    `args`: the fields go in an object under this key instead, and a field with a default is
    written only when it differs from it (image recipe ops: `{"op": "zoom-out", "args": {...}}`).
    `pad`: every record carries these fields, in this order, a member without one writing the
    value given (plan version 1 writes each op as one flat record of every op field).
    """

    key: str
    args: Optional[str] = None
    pad: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Custom:
    """A value that travels in a form of its own."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the type, its Annotated metadata)."""
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        return base, tuple(meta)
    return hint, ()


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _item_hint(hint: Any, index: int) -> Any:
    args = get_args(hint)
    if get_origin(hint) is tuple and args and args[-1] is not Ellipsis:
        return args[index] if index < len(args) else Any
    return args[0] if args else Any


# ---------------------------------------------------------------- encoding


def encode(hint: Any, value: Any) -> Any:
    """`value` (of type `hint`) as JSON values: dicts, lists, strings, numbers, booleans, None."""
    hint, meta = _split(hint)
    for m in meta:
        if isinstance(m, Custom):
            return m.encode(value)
        if isinstance(m, Tagged):
            return _encode_tagged(m, value)
    if value is None:
        return None
    if _is_union(hint):
        options = [a for a in get_args(hint) if a is not type(None)]
        hint = options[0] if len(options) == 1 else Any
    if dataclasses.is_dataclass(value):
        return _encode_fields(value)
    if isinstance(value, (list, tuple)):
        return [encode(_item_hint(hint, i), v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        args = get_args(hint)
        return {k: encode(args[1] if len(args) == 2 else Any, v) for k, v in value.items()}
    return value


def _encode_fields(obj: Any) -> dict[str, Any]:
    hints = _hints(type(obj))
    out = {f.name: encode(hints[f.name], getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    for name in getattr(type(obj), "json_derived", ()):
        out[name] = getattr(obj, name)
    return out


def _at_default(obj: Any, f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING and getattr(obj, f.name) == f.default


def _encode_tagged(tagged: Tagged, value: Any) -> dict[str, Any]:
    body = _encode_fields(value)
    if tagged.args is not None:
        skip = {f.name for f in dataclasses.fields(value) if _at_default(value, f)}
        return {tagged.key: value.kind, tagged.args: {k: v for k, v in body.items() if k not in skip}}
    if tagged.pad:
        unpadded = set(body) - {k for k, _ in tagged.pad}
        if unpadded:  # a field the record has no place for would be lost
            raise ValueError(f"{type(value).__name__} has fields {sorted(unpadded)} outside its record")
        return {tagged.key: value.kind, **{k: body[k] if k in body else copy.deepcopy(v) for k, v in tagged.pad}}
    return {tagged.key: value.kind, **body}


# ---------------------------------------------------------------- decoding


def _fail(where: str, what: str) -> DeditError:
    return DeditError(f"the plan's {where or 'top level'} {what}.")


def _expect(data: Any, kind: type, where: str) -> None:
    if not isinstance(data, kind):
        words = {dict: "an object", list: "an array"}[kind]
        raise _fail(where, f"is not {words}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def decode(hint: Any, data: Any, where: str = "") -> Any:
    """`data` (JSON values) as a `hint`; `where` names the place in the plan for messages."""
    hint, meta = _split(hint)
    for m in meta:
        if isinstance(m, Custom):
            try:
                return m.decode(data)
            except Exception as exc:  # its own form, its own failures (zlib, base64, shapes): one sentence
                raise _fail(where, f"cannot be read ({type(exc).__name__}: {exc})") from None
        if isinstance(m, Tagged):
            return _decode_tagged(m, hint, data, where)
    if hint is Any:
        return data
    origin = get_origin(hint)
    if _is_union(hint):
        options = [a for a in get_args(hint) if a is not type(None)]
        if data is None and len(options) < len(get_args(hint)):
            return None
        return decode(options[0], data, where) if len(options) == 1 else data
    if dataclasses.is_dataclass(hint):
        return _decode_fields(hint, data, where)
    if origin in (list, tuple):
        _expect(data, list, where)
        args = get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis and len(data) != len(args):
            raise _fail(where, f"holds {len(data)} values, not {len(args)}")
        items = [decode(_item_hint(hint, i), v, f"{where}[{i}]") for i, v in enumerate(data)]
        return items if origin is list else tuple(items)
    if origin is dict:
        _expect(data, dict, where)
        value_hint = get_args(hint)[1] if get_args(hint) else Any
        return {k: decode(value_hint, v, _join(where, k)) for k, v in data.items()}
    if origin is Literal and data not in get_args(hint):
        raise _fail(where, f"is {data!r}, not one of {', '.join(repr(a) for a in get_args(hint))}")
    return data


def _decode_fields(cls: type, data: Any, where: str, ignore: tuple[str, ...] = ()) -> Any:
    _expect(data, dict, where)
    hints = _hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    known = {f.name for f in fields} | set(getattr(cls, "json_derived", ())) | set(ignore)
    unknown = [k for k in data if k not in known]
    if unknown:
        raise _fail(where, f"has a field {unknown[0]!r} that a {cls.__name__} does not have")
    values = {}
    for f in fields:
        if f.name in data:
            values[f.name] = decode(hints[f.name], data[f.name], _join(where, f.name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _fail(where, f"lacks the field {f.name!r}")
    return cls(**values)


def _decode_tagged(tagged: Tagged, union: Any, data: Any, where: str) -> Any:
    members = {m.kind: m for m in get_args(union)}
    _expect(data, dict, where)
    kind = data.get(tagged.key)
    cls = members.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise _fail(where, f"has {tagged.key} {kind!r}, not one of {', '.join(members)}")
    if tagged.args is None:
        body = {k: v for k, v in data.items() if k != tagged.key}
        return _decode_fields(cls, body, where, ignore=tuple(name for name, _ in tagged.pad))
    extra = [k for k in data if k not in (tagged.key, tagged.args)]
    if extra:
        raise _fail(where, f"has a field {extra[0]!r} beside {tagged.key!r} and {tagged.args!r}")
    return _decode_fields(cls, data.get(tagged.args, {}), _join(where, tagged.args))
