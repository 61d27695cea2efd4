"""`dedit validate / convert / fmt`, run as users run them (in a subprocess, on copies in a tmp folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from designedit.cli import main
from designedit.io import load

from shared_paths import CONFORMANCE, cases  # noqa: E402
INVALID_NAMES = cases(lambda: sorted(p.name for p in (CONFORMANCE / "invalid").iterdir() if p.name.endswith((".dedit", ".dedit.json"))))

# Runs each document through the CLI in one process, recording every file opened and every socket used
# after start-up; prints one JSON line per document.
_PROBE = r"""
import contextlib, io, json, os, sys
from designedit.cli import main
for name in sys.argv[1:]:  # warm up: every module the commands import is loaded before recording starts
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        main(["validate", name])
events = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        events.append(("open", os.fsdecode(args[0])))
    elif event.startswith("socket."):
        events.append((event, repr(args)[:80]))
sys.addaudithook(hook)
for name in sys.argv[1:]:
    events.clear()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", name])
    print(json.dumps({"name": name, "code": code, "stderr": err.getvalue(), "events": list(events)}))
"""


@pytest.fixture()
def invalid_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "invalid"
    shutil.copytree(CONFORMANCE / "invalid", folder)
    return folder


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from designedit.cli import main; sys.exit(main())", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_invalid_document_exits_2_located_and_reads_nothing_outside(invalid_copy: Path):
    proc = subprocess.run([sys.executable, "-c", _PROBE, *INVALID_NAMES], cwd=invalid_copy, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["name"] for r in results] == INVALID_NAMES
    for r in results:
        assert r["code"] == 2, r
        lines = r["stderr"].splitlines()
        assert lines, r
        for line in lines:
            # file:line:col: sentence  or  file#/pointer: sentence  or  file: sentence
            assert line.startswith(r["name"]), line
            assert line[len(r["name"]):][:1] in (":", "#"), line
            assert "Traceback" not in line and "pydantic" not in line, line
        assert any(target.endswith(r["name"]) for _kind, target in r["events"]), r  # the hook sees the reads
        for kind, target in r["events"]:
            assert kind == "open", (r["name"], kind, target)
            resolved = Path(target if Path(target).is_absolute() else invalid_copy / target).resolve()
            assert resolved == invalid_copy.resolve() or invalid_copy.resolve() in resolved.parents, (r["name"], target)


def test_validate_reports_every_problem_of_every_file(invalid_copy: Path):
    proc = _run(["validate", *INVALID_NAMES], invalid_copy)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    reported = {line.split(":")[0].split("#")[0] for line in proc.stderr.splitlines()}
    assert reported == set(INVALID_NAMES)
    assert "bad-values.dedit:4:39: grow must be a number of pixels, not 'lots'" in proc.stderr.splitlines()
    assert len([line for line in proc.stderr.splitlines() if line.startswith("bad-values.dedit:")]) == 6


def test_validate_accepts_the_conformance_documents(tmp_path: Path):
    folder = tmp_path / "conformance"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith((".dedit", ".dedit.json")))
    proc = _run(["validate", *names], folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{n}: valid" for n in names]


def test_validate_mixes_good_and_bad(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder)
    code = main(["validate", str(folder / "remove.dedit"), str(folder / "invalid" / "url.dedit"), str(folder / "nope.dedit")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.strip() == f"{folder / 'remove.dedit'}: valid"
    assert err.splitlines() == [
        f"{folder / 'invalid' / 'url.dedit'}:3:22: 'http://127.0.0.1:9/poster.png' is a URL; only files relative to the document are allowed",
        f"{folder / 'nope.dedit'}: the file does not exist",
    ]


def test_root_option_widens_the_allowed_folder(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    (folder / "sub").mkdir()
    doc = folder / "sub" / "up.dedit"
    doc.write_text('<dedit version="1.0"><image id="p" src="../poster.png"/><background image="p"/></dedit>')
    assert main(["validate", str(doc)]) == 2
    assert main(["validate", "--root", str(folder), str(doc)]) == 0


def test_convert_to_stdout_and_file(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    assert main(["convert", str(folder / "zoom-out.dedit"), "--to", "xml"]) == 0
    xml = capsys.readouterr().out
    assert xml.startswith("<?xml") and '<zoom-out factor="1.5"/>' in xml
    out = folder / "zoom-out.xml.dedit"
    assert main(["convert", str(folder / "zoom-out.dedit"), "--to", "xml", "-o", str(out)]) == 0
    assert out.read_text() == xml
    assert load(out) == load(folder / "zoom-out.dedit")
    back = folder / "back.dedit.json"
    assert main(["convert", str(out), "--to", "json", "-o", str(back)]) == 0
    assert main(["convert", str(back), "--to", "json", "-o", str(folder / "again.json")]) == 0
    assert (folder / "again.json").read_bytes() == back.read_bytes()
    assert not list(folder.glob(".*.tmp"))


def test_convert_refuses_an_invalid_document(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE / "invalid", folder)
    assert main(["convert", str(folder / "bad-values.dedit"), "--to", "json", "-o", str(folder / "x.json")]) == 2
    assert not (folder / "x.json").exists()


def test_fmt_rewrites_and_check_reports(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    names = [str(folder / n) for n in ("remove.dedit", "remove.dedit.json", "zoom-out.dedit")]
    before = {n: Path(n).read_bytes() for n in names}
    assert main(["fmt", "--check", *names]) == 1
    err = capsys.readouterr().err
    assert all(f"would reformat {n}" in err for n in names)
    assert {n: Path(n).read_bytes() for n in names} == before  # --check changes nothing
    scenes = {n: load(n) for n in names}
    assert main(["fmt", *names]) == 0
    assert {n: load(n) for n in names} == scenes
    assert Path(names[2]).read_text().startswith("{")  # keeps each file's form
    assert main(["fmt", "--check", *names]) == 0


def test_fmt_check_reports_invalid_documents_with_exit_2(tmp_path: Path, capsys):
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE / "invalid", folder)
    assert main(["fmt", "--check", str(folder / "malformed.dedit")]) == 2
    assert "malformed.dedit:5:9: the XML is not well-formed" in capsys.readouterr().err


def test_newer_minor_version_prints_a_note(tmp_path: Path, capsys):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "minor.dedit"
    doc.write_text('<dedit version="1.7"><image id="p" src="poster.png"/><background image="p"/></dedit>')
    assert main(["validate", str(doc)]) == 0
    assert "note:" in capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _full_disk(errno_=28):
    def write(path, data):
        raise OSError(errno_, os.strerror(errno_))

    return write


def test_convert_output_is_checked_before_work_and_never_one_of_the_scenes_files(tmp_path: Path, capsys, monkeypatch):
    import designedit.cli.format_cmds as format_cmds

    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setattr(format_cmds, "dump", lambda *a: pytest.fail("converted before the -o check"))
    doc = folder / "remove.dedit"
    for target in (doc, folder / "poster.png"):
        assert main(["convert", str(doc), "--to", "json", "-o", str(target)]) == 2
        assert "one of the scene's own files; refusing to overwrite it" in _one_line(capsys.readouterr().err)
    assert main(["convert", str(doc), "--to", "json", "-o", "/proc/x.json"]) == 2
    assert _one_line(capsys.readouterr().err).startswith("dedit: cannot write /proc/x.json: ")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_convert_write_that_fails_after_the_work_is_one_sentence(tmp_path: Path, capsys, monkeypatch):
    import designedit.rendering.atomic as atomic

    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    monkeypatch.setattr(atomic, "atomic_write", _full_disk())
    out = folder / "remove.xml.dedit"
    assert main(["convert", str(folder / "remove.dedit"), "--to", "xml", "-o", str(out)]) == 1
    assert _one_line(capsys.readouterr().err) == f"dedit: cannot write {out}: no space left on the device holding {folder}."
    assert not out.exists()


def _three_to_reformat(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "c"
    shutil.copytree(CONFORMANCE, folder, ignore=shutil.ignore_patterns("invalid"))
    names = [folder / n for n in ("remove.dedit", "remove.dedit.json", "zoom-out.dedit")]
    for path in names:  # canonical documents made non-canonical: a trailing blank line
        path.write_bytes(path.read_bytes() + b"\n\n")
    return names


def test_fmt_checks_every_file_it_would_rewrite_before_rewriting_any(tmp_path: Path, capsys, monkeypatch):
    import designedit.rendering.outputs as output

    names = _three_to_reformat(tmp_path)
    before = [p.read_bytes() for p in names]
    monkeypatch.setattr(output, "why_unwritable", lambda path, folder=False: "permission denied" if path == names[2] else None)
    assert main(["fmt", *map(str, names)]) == 2
    assert _one_line(capsys.readouterr().err) == f"dedit: cannot write {names[2]}: permission denied."
    assert [p.read_bytes() for p in names] == before


def test_fmt_that_fails_or_is_stopped_part_way_says_what_it_rewrote(tmp_path: Path, capsys, monkeypatch):
    import designedit.rendering.atomic as atomic
    from designedit.cli import Terminated

    names = _three_to_reformat(tmp_path)
    real = atomic.atomic_write
    for stop, status, last in ((_full_disk(), 1, f"dedit: cannot write {names[1]}: no space left on the device holding {names[1].parent}."),
                               (KeyboardInterrupt(), 130, "dedit: interrupted after rewriting 1 file (listed above); nothing else was written."),
                               (Terminated(), 143, "dedit: terminated after rewriting 1 file (listed above); nothing else was written.")):
        for path in names:
            path.write_bytes(path.read_bytes().rstrip(b"\n") + b"\n\n\n")
        calls = []

        def write(path, data, stop=stop):
            calls.append(path)
            if len(calls) == 2:
                if isinstance(stop, BaseException):
                    raise stop
                stop(path, data)
            return real(path, data)

        monkeypatch.setattr(atomic, "atomic_write", write)
        assert main(["fmt", *map(str, names)]) == status
        out, err = capsys.readouterr()
        assert out == f"reformatted {names[0]}\n" and _one_line(err) == last
        assert not names[0].read_bytes().endswith(b"\n\n") and names[1].read_bytes().endswith(b"\n\n\n")
        assert not list(names[0].parent.glob("*.part"))


def test_a_picture_given_as_a_scene_is_named_as_a_picture(tmp_path: Path, capsys):
    shutil.copy(CONFORMANCE / "poster.png", tmp_path / "poster.png")
    assert main(["validate", str(tmp_path / "poster.png")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'poster.png'}: this is a PNG picture, not a .dedit document"


@pytest.mark.parametrize("command", ["validate", "convert", "fmt", "plan", "render", "watch"])
def test_every_file_argument_is_explained_in_help(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    positional = capsys.readouterr().out.split("positional arguments:", 1)[1].split("options:", 1)[0]
    assert ".dedit file" in positional


def test_text_that_starts_like_a_picture_signature_is_still_read_as_text(tmp_path: Path, capsys):
    doc = tmp_path / "bm.dedit"
    doc.write_text("BM is not how a scene starts")
    assert main(["validate", str(doc)]) == 2
    err = capsys.readouterr().err
    assert "picture" not in err and "neither XML" in err


def _scene_with_masks(folder: Path, mask_value: int, dx: int = 5) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 10, 10)).save(folder / "bg.png")
    Image.new("L", (64, 48), mask_value).save(folder / "m.png")
    doc = {"dedit": "1.0", "images": [{"id": "bg", "src": "bg.png"}], "masks": [{"id": "m", "src": "m.png"}],
           "background": {"image": "bg"},
           "layers": [{"id": "l", "image": "bg", "mask": "m", "transforms": [{"op": "move", "dx": dx, "dy": 0}]}]}
    path = folder / "s.dedit.json"
    path.write_text(json.dumps(doc))
    return path


def test_validate_refuses_what_render_would_refuse(tmp_path: Path, capsys):
    """A mask that selects nothing is well-formed, but no object can be placed: validate says so, as render does."""
    scene = _scene_with_masks(tmp_path, 0)
    assert main(["validate", str(scene)]) == 2
    err = capsys.readouterr().err
    assert f"{scene}#/layers/0: layer 'l': its mask selects nothing" in err
    assert main(["validate", "--no-files", str(scene)]) == 0  # without pictures there is nothing to compile


def test_validate_prints_the_plans_warnings(tmp_path: Path, capsys):
    scene = _scene_with_masks(tmp_path, 255, dx=500)  # moved off the 64x48 canvas
    assert main(["validate", str(scene)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{scene}: valid"
    assert err.startswith(f"warning: {scene}: layer 'l' ends up entirely outside the 64x48 canvas")
    assert main(["validate", "-q", str(scene)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "warning:" in err  # quiet drops the "valid" lines, not the warnings
