"""`--each MANIFEST.csv`: one render per row of a manifest, filling a template scene's placeholders.

The manifest is CSV (UTF-8, a byte-order mark allowed) whose first line names the columns: one per
placeholder of the template (spec/format.md, Templates) and `output`, the picture to write, relative to
the manifest's folder. The header must name every placeholder, and nothing else but `output`: anything
wrong there is the whole command's problem (status 2, located `manifest.csv:1`). A bad row (a field
missing or empty, an output that is not a .png, leaves the allowed root or repeats another row's, a
picture it names that cannot be read) is that row's problem, located `manifest.csv:LINE`; the other rows
render. Outputs may not leave --root, else the manifest's folder; the pictures a row names are references
of the scene and obey its rules.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Mapping, Optional

from designedit.batch.jobs import Job
from designedit.errors import Problem, SceneError

OUTPUT_COLUMN = "output"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_ROWS = 100_000
MANIFEST_HELP = ("render the template FILE once per row of a CSV manifest: a column per placeholder ({name} in "
                 "a picture's src, format 1.2) and an 'output' column, the picture to write (relative to the manifest)")


def read_template(scene: Path, root: Optional[Path]):
    """The template's Loaded document (placeholders kept, the rest checked) and its placeholder names, in
    order of first use."""
    from designedit.io import placeholders, read_file

    loaded = read_file(scene, root=root, check_files=True, template=True)
    names: dict[str, None] = {}
    for item in [*loaded.scene.images, *loaded.scene.masks]:
        src = getattr(item, "src", None)
        if src and loaded.scene.origin is not None and placeholders.uses_placeholders(_version(loaded.scene.version)):
            for name in placeholders.names(src):
                names.setdefault(name)
    return loaded, list(names)


def _version(text: str):
    from designedit.io import versions

    return versions.parse(text)


def _read_rows(manifest: Path) -> list[tuple[int, list[str]]]:
    """(line, fields) of every non-blank record, the header first."""
    label = str(manifest)
    try:
        with open(manifest, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        from designedit.checks.paths import unreadable_reason

        raise SceneError(Problem(label, f"the manifest cannot be read ({unreadable_reason(exc)})")) from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise SceneError(Problem(label, f"the manifest is more than {MAX_MANIFEST_BYTES} bytes, the limit"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SceneError(Problem(f"{label}:{line}", "the manifest is not UTF-8 text")) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if fields and any(fields):
                rows.append((start, fields))
            if len(rows) > MAX_ROWS + 1:
                raise SceneError(Problem(f"{label}:{start}", f"the manifest has more than {MAX_ROWS} rows, the limit"))
    except csv.Error as exc:
        raise SceneError(Problem(f"{label}:{reader.line_num}", f"the manifest is not valid CSV ({exc})")) from None
    if not rows:
        raise SceneError(Problem(label, "the manifest is empty; its first line names the columns"))
    return rows


def _header_problems(label: str, line: int, header: list[str], names: list[str], scene: Path) -> list[Problem]:
    where = f"{label}:{line}"
    found = []
    seen: set[str] = set()
    for column in header:
        if column in seen:
            found.append(Problem(where, f"the column {column!r} is named twice"))
        seen.add(column)
        if column != OUTPUT_COLUMN and column not in names:
            known = ", ".join("{" + n + "}" for n in names) or "none"
            found.append(Problem(where, f"the column {column!r} is no placeholder of {scene} (its placeholders: {known})"))
    if OUTPUT_COLUMN not in seen:
        found.append(Problem(where, "there is no 'output' column (the picture each row writes)"))
    for name in names:
        if name not in seen:
            found.append(Problem(where, f"there is no column for the placeholder {{{name}}} of {scene}"))
    if not names:
        found.append(Problem(str(scene), "the scene has no placeholders ({name} in a picture's src, format 1.2 "
                             "and later), so --each has nothing to fill"))
    return found


def manifest_jobs(scene: Path, manifest: Path, root: Optional[Path]) -> list[Job]:
    """One job per row. SceneError for a template or header that no row could render."""
    from designedit.checks.paths import reference_problem
    from designedit.model.scene import Origin

    _, names = read_template(scene, root)
    label = str(manifest)
    rows = _read_rows(manifest)
    (head_line, header), body = rows[0], rows[1:]
    problems = _header_problems(label, head_line, header, names, scene)
    if problems:
        raise SceneError(problems)
    if not body:
        raise SceneError(Problem(label, "the manifest has a header but no rows"))
    folder = manifest.absolute().parent
    outputs = Origin(None, base=folder, root=Path(root).absolute() if root is not None else folder)
    jobs: list[Job] = []
    taken: dict[Path, int] = {}
    for line, fields in body:
        where = f"{label}:{line}"
        row_problems: list[tuple[str, str]] = []
        if len(fields) != len(header):
            row_problems.append((where, f"the row has {len(fields)} fields; the header has {len(header)}"))
            fields = (fields + [""] * len(header))[: len(header)]
        row = dict(zip(header, fields))
        if not row_problems:
            row_problems += [(where, f"the {column!r} column is empty") for column in header if not row[column].strip()]
        output: Optional[Path] = None
        ref = row.get(OUTPUT_COLUMN, "")
        if ref:
            why = reference_problem(outputs, ref)
            if why is None and not ref.lower().endswith(".png"):
                why = f"{ref!r} must end in .png; dedit writes PNG pictures"
            if why is None:
                output = manifest.parent / ref  # as the user wrote it, for the lines
                resolved = (folder / ref).resolve()
                if resolved in taken:
                    why = f"{ref!r} is also the output of line {taken[resolved]}; each row writes its own picture"
                else:
                    taken[resolved] = line
            if why is not None:
                row_problems.append((where, f"output: {why}"))
        values = tuple((k, v) for k, v in row.items() if k != OUTPUT_COLUMN)
        jobs.append(Job(where, scene, output, values, tuple(row_problems)))
    return jobs


def load_filled(scene: Path, values: Mapping[str, str], root: Optional[Path], label: str):
    """The template filled with a row's values, checked as any scene; a picture the row names that cannot
    be used is located at the row."""
    from designedit.checks.files import picture_problem
    from designedit.checks.paths import reference_problem
    from designedit.io import placeholders, read_file

    template = read_file(scene, root=root, check_files=False, template=True).scene
    origin = template.origin
    found: list[Problem] = []
    for item in [*template.images, *template.masks]:
        src = getattr(item, "src", None)
        if not src or origin is None or not placeholders.names(src):
            continue
        filled = placeholders.fill(src, values)
        columns = ", ".join(placeholders.names(src))
        why = reference_problem(origin, filled) or picture_problem((origin.base / filled).resolve(), filled)
        if why is not None:
            found.append(Problem(label, f"{columns}: {why}"))
    if found:
        raise SceneError(found)
    return read_file(scene, root=root, check_files=True, values=values).scene
