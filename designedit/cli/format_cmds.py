"""`dedit validate`, `dedit convert`, `dedit fmt`: check, translate and reformat `.dedit` documents."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from designedit.cli.table import Command, add_commands, argument
from designedit.errors import DeditError, Problem, SceneError
from designedit.io import FormatWarning, dump, read_file


def _read(path: Path, root: Path | None, check_files: bool):
    """Load one document, printing format notes (newer minor versions) to stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FormatWarning)
        loaded = read_file(path, root=root, check_files=check_files, template=True)  # a 1.2 template stays one
    for w in caught:
        if issubclass(w.category, FormatWarning):
            print(f"note: {w.message}", file=sys.stderr)
    return loaded


def run_validate(args: argparse.Namespace) -> int:
    if args.each is not None:
        return _validate_rows(args)
    problems: list[Problem] = []
    for path in args.files:
        try:
            loaded = _read(path, args.root, check_files=not args.no_files)
            holes = _placeholders(loaded.scene)
            if holes:  # its pictures are a manifest's rows to name: --each checks those
                if not args.quiet:
                    print(f"{path}: valid template ({', '.join(holes)}; --each MANIFEST.csv checks its rows)")
                continue
            notes = [] if args.no_files else _compile_warnings(loaded.scene)
        except SceneError as exc:
            problems.extend(exc.problems)
        except DeditError as exc:  # not the document's fault as such (a picture that cannot be read now)
            problems.append(Problem(str(path), str(exc)))
        else:
            if not args.quiet:
                print(f"{path}: valid")
            for sentence in notes:
                if sentence.startswith("note: "):  # a mask that awaits a model: not a problem of the document
                    print(f"note: {path}: {sentence[6:]}", file=sys.stderr)
                else:
                    print(f"warning: {path}: {sentence}", file=sys.stderr)
    if problems:
        raise SceneError(problems)
    return 0


def _placeholders(scene) -> list[str]:
    from designedit.io import placeholders, versions

    if not placeholders.uses_placeholders(versions.parse(scene.version)):
        return []
    found = [name for item in [*scene.images, *scene.masks] for name in placeholders.names(item.src or "")]
    return ["{" + name + "}" for name in dict.fromkeys(found)]


def _validate_rows(args: argparse.Namespace) -> int:
    """`validate TEMPLATE --each MANIFEST.csv`: every row filled, checked and compiled as render would."""
    from designedit.batch.jobs import Settings, load
    from designedit.batch.manifest import manifest_jobs

    if len(args.files) != 1:
        from designedit.errors import UsageError

        raise UsageError("--each fills one template scene; name one scene with it.")
    problems: list[Problem] = []
    for job in manifest_jobs(args.files[0], args.each, args.root):
        try:
            scene, _ = load(job, Settings(root=args.root))
            notes = _compile_warnings(scene)
        except SceneError as exc:
            problems.extend(exc.problems)
        else:
            if not args.quiet:
                print(f"{job.label}: valid")
            for sentence in notes:
                print(f"warning: {job.label}: {sentence}", file=sys.stderr)
    if problems:
        raise SceneError(problems)
    return 0


def _compile_warnings(scene) -> list[str]:
    """Compile the scene as `dedit render` would: what the reader cannot see (a mask
    that selects nothing, transforms that shrink an object away) is refused here too, and the plan's
    warnings are returned. The compiler is pure Python; no renderer is involved."""
    from designedit.compiler import compile_scene
    from designedit.masks.derived import Derived, awaiting_notes

    # masks a model derives (attention) are stood in for by their whole picture, and said to await one
    warnings = compile_scene(scene, schedule=None, derived=Derived(stand_in=True)).warnings  # the scene's schedule, else fast
    return [f"note: {sentence}" for sentence in awaiting_notes(scene)] + list(warnings)


def run_convert(args: argparse.Namespace) -> int:
    loaded = _read(args.file, args.root, check_files=False)
    if args.output is not None and str(args.output) != "-":
        from designedit.rendering.outputs import check_destination
        from designedit.rendering.session import scene_files

        # before any work (exit status 2): never the document itself or a picture it names
        check_destination(args.output, inputs=scene_files(loaded.scene))
    text = dump(loaded.scene, args.to, loaded.comments)
    if loaded.comments and args.to == "json":
        n = len(loaded.comments)
        print(f"note: {args.file}: {n} XML comment{'s are' if n > 1 else ' is'} not kept (JSON has no comments)", file=sys.stderr)
    if args.output is None or str(args.output) == "-":
        sys.stdout.write(text)
    else:
        from designedit.rendering.atomic import atomic_write_bytes

        atomic_write_bytes(args.output, text.encode("utf-8"))  # a failure now (a full disk): one sentence, exit 1
    return 0


def run_fmt(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    rewrites: list[tuple[Path, str]] = []
    for path in args.files:
        try:
            loaded = _read(path, args.root, check_files=False)
        except SceneError as exc:
            problems.extend(exc.problems)
            continue
        text = dump(loaded.scene, loaded.form, loaded.comments)
        if loaded.raw != text.encode("utf-8"):
            rewrites.append((path, text))
    if args.check:
        for path, _ in rewrites:
            print(f"would reformat {path}", file=sys.stderr)
    else:
        _rewrite(rewrites)
    if problems:
        raise SceneError(problems)
    return 1 if (args.check and rewrites) else 0


def _rewrite(rewrites: list[tuple[Path, str]]) -> None:
    """Check every file that changes can be replaced (DestinationError, exit status 2: nothing rewritten), then
    rewrite them one by one. Whatever stops the run part-way (a failed write, Ctrl-C, SIGTERM) finds the
    files rewritten so far listed on stdout, as a finished run lists them, and on the exception as `rewritten`
    (so `main` does not say that nothing was written)."""
    from designedit.rendering.atomic import atomic_write_bytes
    from designedit.rendering.outputs import check_destination

    for path, _ in rewrites:
        check_destination(path)
    done: list[Path] = []
    try:
        for path, text in rewrites:
            atomic_write_bytes(path, text.encode("utf-8"))
            done.append(path)
    except BaseException as stop:
        stop.rewritten = list(done)
        raise
    finally:  # what was rewritten is said even when another file is refused or the run is stopped
        for path in done:
            print(f"reformatted {path}", flush=True)


ROOT = argument("--root", type=Path, metavar="DIR", help="folder file references may not leave (default: each document's folder)")
FORMAT_COMMANDS = (
    Command(
        "validate",
        "check documents and the pictures they name",
        "Check each FILE: its form, every value, every reference and every picture it names, then compile it as "
        "render would (so what compiles but is probably not meant is printed as a warning). Exits 0 when all are "
        "valid, else 2 after printing every problem of every file.",
        (argument("files", nargs="+", type=Path, metavar="FILE", help="scenes, .dedit files (XML or JSON)"),
         ROOT,
         argument("--no-files", action="store_true", help="skip the checks that open pictures (and compiling, which reads them)"),
         argument("-q", "--quiet", action="store_true", help="print nothing for valid files"),
         argument("--each", type=Path, metavar="MANIFEST.csv",
                  help="check every row of a manifest against the template FILE, as render --each fills them")),
        run_validate,
    ),
    Command(
        "convert",
        "convert a document to XML or JSON",
        "Write FILE in the other form (canonically). File references are kept as written, so write the result "
        "next to the original. XML comments are kept in XML and dropped (with a note) in JSON.",
        (argument("file", type=Path, metavar="FILE", help="the scene, a .dedit file (XML or JSON)"),
         argument("--to", required=True, choices=["xml", "json"], help="the form to write"),
         argument("-o", "--output", type=Path, metavar="OUT", help="file to write (default: standard output)"),
         ROOT),
        run_convert,
    ),
    Command(
        "fmt",
        "rewrite documents canonically",
        "Rewrite each FILE canonically in its own form (stable order, 2-space indentation, minimal numbers, "
        "defaults left out; XML comments stay before the element they preceded). With --check, change nothing "
        "and exit 1 if a file would change.",
        (argument("files", nargs="+", type=Path, metavar="FILE", help="scenes, .dedit files (XML or JSON), rewritten in place"),
         argument("--check", action="store_true", help="only report files that are not canonical (exit 1)"),
         ROOT),
        run_fmt,
    ),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    add_commands(subparsers, FORMAT_COMMANDS)
