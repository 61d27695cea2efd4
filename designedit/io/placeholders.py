"""Template placeholders (format 1.2): `{name}` in an image's or a mask's `src`, filled per manifest row.

In a document of version 1.2 or later, a picture reference may name placeholders: `src="{poster}"`,
`src="shots/{sku}-mask.png"`. A placeholder is `{`, a name (a letter or `_`, then letters, digits, `_` or
`-`), `}`; any other brace is a brace (`{ }`, `{1}`, `a{b`). Before 1.2 braces had no meaning and still
have none: a 1.0 or 1.1 document's `{poster}` names a file called `{poster}`, as it always did.

`apply` runs in the reader, on the document in its JSON shape, before anything is checked. Filled (`values`
given: a manifest row's), every placeholder is replaced and the result is checked like any reference. Loaded
as a template (`template=True`: validating it, or reading its placeholders), the placeholders stay and the
file checks pass those references over. Otherwise a placeholder is refused where it is written: a template
is rendered with --each.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Optional

SINCE = (1, 2)
FIELDS = ("images", "masks")  # the lists whose items' `src` may hold placeholders
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")


def names(src: str) -> list[str]:
    """The placeholders of `src`, in order (a name may come twice)."""
    return PLACEHOLDER.findall(src)


def fill(src: str, values: Mapping[str, str]) -> str:
    """`src` with each placeholder replaced by its value (KeyError for one without)."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], src)


def uses_placeholders(version: Optional[tuple[int, int]]) -> bool:
    return version is not None and version >= SINCE


def templated(data: Any) -> list[tuple[tuple, str]]:
    """(path, src) of every image and mask src that holds a brace."""
    found = []
    for key in FIELDS:
        items = data.get(key) if isinstance(data, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            src = item.get("src") if isinstance(item, dict) else None
            if isinstance(src, str) and ("{" in src or "}" in src):
                found.append(((key, i, "src"), src))
    return found


def apply(data: Any, version: Optional[tuple[int, int]], values: Optional[Mapping[str, str]], template: bool,
          report: Callable[[tuple, str], None]) -> set[tuple]:
    """Fill, keep or refuse the placeholders of a 1.2+ document in place (see the module's text); returns the
    paths of the srcs kept as placeholders (the file checks pass them over)."""
    kept: set[tuple] = set()
    if not uses_placeholders(version):
        return kept
    for path, src in templated(data):
        wanted = names(src)
        if not wanted:
            continue
        if values is not None:
            missing = [n for n in wanted if n not in values]
            if missing:
                report(path, f"the placeholder {{{missing[0]}}} has no value")
            else:
                data[path[0]][path[1]]["src"] = fill(src, values)
        elif template:
            kept.add(path)
        else:
            report(path, f"{{{wanted[0]}}} is a placeholder: this scene is a template, rendered with "
                   "--each MANIFEST.csv (one row per output)")
    return kept
