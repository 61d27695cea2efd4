"""How the XML reader names what a document wrote: tags and attributes as written (namespace prefixes and
all), shortened and escaped where they are echoed."""

from __future__ import annotations

from typing import Any

from designedit.model.quoting import escape, shorten


def short_tag(tag: Any) -> str:
    """A tag the reader does not know, as written: it may be long, so it is shortened."""
    return escape(shorten(show_tag(tag)))


def show_tag(tag: Any) -> str:
    return str(tag).replace("{", "").replace("}", ":")


XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"


def show_attr(name: str, el=None) -> str:
    """An attribute's name as the document wrote it: `xml:lang`, `x:foo` (its prefix), else plain."""
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        prefixes = {XML_NAMESPACE: "xml"}
        if el is not None:
            prefixes.update({v: k for k, v in el.nsmap.items() if k})
        if uri in prefixes:
            return f"'{prefixes[uri]}:{local}'"
    return "'" + show_tag(name) + "'"


def attr_key(name: str) -> str:
    return name.rsplit("}", 1)[-1]
