"""`dedit plan` on the conformance documents (copied to a tmp folder), and the timeline SVG."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from shared_paths import CONFORMANCE, cases
from designedit.cli import main
from designedit.plan import Plan

DOCUMENTS = cases(lambda: sorted(p.name for p in CONFORMANCE.iterdir() if p.name.endswith((".dedit", ".dedit.json"))))


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conformance")
    for p in CONFORMANCE.iterdir():
        if p.is_file():
            shutil.copyfile(p, folder / p.name)
    return folder


@pytest.mark.shared
def test_there_are_conformance_documents():
    assert len(DOCUMENTS) >= 9


@pytest.mark.parametrize("schedule", ["fast", "reference"])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_conformance_document_compiles(docs, name, schedule, capsys):
    assert main(["plan", str(docs / name), "--schedule", schedule, "--json"]) == 0
    plan = Plan.from_json(capsys.readouterr().out)
    assert plan.schedule == schedule and plan.canvas.width == 512 and plan.canvas.height == 384
    assert plan.cost.total == plan.cost.inversion + plan.cost.denoise > 0
    if schedule == "reference":
        n = len(plan.layers)
        occ = any(l.occluder for l in plan.layers)
        assert plan.cost.inversion == 50 * (1 + n)
        assert plan.cost.denoise == 100 * (2 + (1 if n else 0) + (1 if occ else 0) + n)


def test_summary_names_branches_windows_offsets_costs(docs, capsys):
    assert main(["plan", str(docs / "move-resize.dedit"), "--steps", "50"]) == 0
    out = capsys.readouterr().out
    for needle in ["fast schedule", "render 1152x896", "L0", "keyed by remove@latent at 1..39", "fusion after 41",
                   "move (128, -16) px -> (36, -5) cells", "rounding", "inversion 100 + denoise 89 = 189"]:
        assert needle in out, needle


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_summary_says_the_occlusion_canvas_is_fused_not_read_from_a_trajectory(docs, schedule, capsys):
    """With occlusion the canvas C is rebuilt by the fusion after every step up to the fusion step (method 10):
    it is no inversion trajectory, and C^ takes its outside from it (Eq. 5)."""
    assert main(["plan", str(docs / "occlusion.dedit"), "--schedule", schedule]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ") and line.split()[0] in ("S", "C", "C^", "L1")}
    assert "inversion trajectory" not in lines["C"]
    assert "rebuilt by the fusion after 0..41" in lines["C"]
    assert "outside its mask taken from the canvas after 0..41 (Eq. 5)" in lines["C^"]
    if schedule == "fast":
        assert lines["C"].endswith("never evaluated: rebuilt by the fusion after 0..41")
        assert "read from its inversion trajectory" in lines["S"] and "read from its inversion trajectory" in lines["L1"]


def test_json_has_the_costs(docs, capsys):
    assert main(["plan", str(docs / "remove.dedit"), "--schedule", "reference", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["cost"]["inversion"], d["cost"]["denoise"], d["cost"]["total"]) == (50, 200, 250)


def test_svg_timeline(docs, tmp_path, capsys):
    out = tmp_path / "deep" / "plan.svg"
    assert main(["plan", str(docs / "occlusion.dedit"), "--svg", str(out), "--steps", "20"]) == 0
    root = etree.parse(str(out)).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    titles = [t.text for t in root.iterfind(".//s:title", ns)]
    plan_evals = sum(1 for t in titles if t.startswith("step ") and ("uncond" in t or "cond" in t) and ":" not in t.split()[1])
    assert plan_evals > 0
    assert any("fuse C" in t for t in titles) and any("blend C^" in t for t in titles)
    text = " ".join(t.text or "" for t in root.iterfind(".//s:text", ns))
    assert "key: occlude@latent" in text and "fusion" in text and "C^ (occlusion)" in text


def test_bad_document_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.dedit"
    bad.write_text('<dedit version="1.0"><background image="nope"/></dedit>')
    assert main(["plan", str(bad)]) == 2
    assert "bad.dedit" in capsys.readouterr().err


def test_a_background_alone_plans_no_unet_work(docs, tmp_path, capsys):
    shutil.copyfile(docs / "poster.png", tmp_path / "poster.png")
    doc = tmp_path / "noop.dedit"
    doc.write_text('<dedit version="1.0"><image id="poster" src="poster.png"/><background image="poster"/></dedit>')
    svg = tmp_path / "noop.svg"
    assert main(["plan", str(doc), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    for needle in ["images to invert (0):", "output: bg, the background picture itself (load poster.png@(0,0))",
                   "inversion 0 + denoise 0 = 0", "nothing in this scene changes a pixel"]:
        assert needle in out, needle
    assert "= 0; output bg" in svg.read_text()
    assert main(["plan", str(doc), "--schedule", "reference"]) == 0
    out = capsys.readouterr().out
    assert "images to invert (1):" in out and "output: L0" in out and "= 250" in out


def test_plan_refuses_a_native_size_out_of_range_in_plain_words(tmp_path, capsys):
    from designedit.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["plan", "--native-size", "5000000", str(tmp_path / "x.dedit")])
    assert stop.value.code == 2
    assert "5000000 is not a side between 64 and 16384 pixels" in capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_svg_refuses_the_scenes_own_files_and_unwritable_places_before_compiling(docs, tmp_path, capsys, monkeypatch):
    import designedit.compiler as compiler

    folder = tmp_path / "scene"
    shutil.copytree(docs, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setattr(compiler, "compile_scene", lambda *a, **k: pytest.fail("compiled before the --svg check"))
    doc = folder / "remove.dedit"
    with pytest.raises(SystemExit) as stop:  # a picture's name is not an SVG's
        main(["plan", str(doc), "--svg", str(folder / "poster.png")])
    assert stop.value.code == 2 and "is not an .svg file name" in capsys.readouterr().err
    named_svg = folder / "remove.svg"  # a document's form is told by its content, so any name is one
    named_svg.write_bytes(doc.read_bytes())
    before[named_svg.name] = named_svg.read_bytes()
    assert main(["plan", str(named_svg), "--svg", str(named_svg)]) == 2
    assert "one of the scene's own files; refusing to overwrite it" in _one_line(capsys.readouterr().err)
    (folder / "a-file").write_text("x")
    for target in ("/proc/x.svg", str(folder / "a-file" / "x.svg")):
        assert main(["plan", str(doc), "--svg", target]) == 2
        assert _one_line(capsys.readouterr().err).startswith(f"dedit: cannot write {target}: ")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "a-file"} == before


def test_svg_is_written_with_the_usual_permissions_and_a_failed_write_is_one_sentence(docs, tmp_path, capsys, monkeypatch):
    import errno
    import os
    import stat

    import designedit.rendering.atomic as atomic

    old = os.umask(0o022)
    try:
        out = tmp_path / "plan.svg"
        assert main(["plan", str(docs / "remove.dedit"), "--svg", str(out)]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
    finally:
        os.umask(old)
    capsys.readouterr()

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "atomic_write", full)  # the disk fills up after the checks
    assert main(["plan", str(docs / "remove.dedit"), "--svg", str(tmp_path / "later.svg")]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == f"dedit: cannot write {tmp_path / 'later.svg'}: no space left on the device holding {tmp_path}."


def test_plan_svg_must_be_named_svg(tmp_path, capsys):
    from designedit.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["plan", "--svg", str(tmp_path / "x.png"), str(tmp_path / "x.dedit")])
    assert stop.value.code == 2 and "x.png is not an .svg file name" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def _svg_bars(path: Path) -> tuple[dict[str, tuple[list[int], list[float]]], str, dict[int, float]]:
    """The timeline's bars ({label: (steps, rect xs)}), all its text, and the x of each step's cells."""
    import re

    ns = {"s": "http://www.w3.org/2000/svg"}
    root = etree.parse(str(path)).getroot()
    bars: dict[str, tuple[list[int], list[float]]] = {}
    cells: dict[int, float] = {}
    for rect in root.iterfind(".//s:rect", ns):
        title = rect.find("s:title", ns)
        if title is None:
            continue
        bar = re.fullmatch(r"(.+): steps? (\d+)(?:\.\.(\d+))?", title.text)
        if bar:
            a, b = int(bar.group(2)), int(bar.group(3) or bar.group(2))
            steps, xs = bars.setdefault(bar.group(1), ([], []))
            steps += range(a, b + 1)
            xs.append(float(rect.get("x")))
        elif title.text.startswith("step "):
            cells.setdefault(int(title.text.split()[1]), float(rect.get("x")) - 1)
    text = " ".join(t.text or "" for t in root.iterfind(".//s:text", ns))
    return bars, text, cells


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_svg_shows_eq5_blends_harmonisation_and_that_keys_touch_the_cond_half(docs, tmp_path, schedule):
    out = tmp_path / f"{schedule}.svg"
    assert main(["plan", str(docs / "occlusion.dedit"), "--svg", str(out), "--schedule", schedule]) == 0
    bars, text, cells = _svg_bars(out)
    assert bars["Eq.5 blend into C^ from C"][0] == list(range(0, 42))
    assert bars["Eq.2 blend into L0"][0] == list(range(0, 41))
    assert bars["fusion"][0] == list(range(0, 42))
    assert bars["harmonisation (C^)"][0] == list(range(42, 50))
    assert bars["key: occlude@latent (cond half)"][0] == list(range(1, 40))
    assert bars["key: remove@latent (cond half)"][0] == list(range(1, 40))
    # each bar starts at its first step's column
    assert bars["harmonisation (C^)"][1] == [cells[42]] and bars["Eq.5 blend into C^ from C"][1] == [cells[0]]
    assert "harmonisation (C^)" in text and "Eq.5 blend into C^ from C" in text
    assert "the uncond half never is" in text


def test_svg_of_a_move_harmonises_its_canvas_and_has_no_eq5_bar(docs, tmp_path):
    out = tmp_path / "move.svg"
    assert main(["plan", str(docs / "move-resize.dedit"), "--svg", str(out)]) == 0
    bars, text, _ = _svg_bars(out)
    assert bars["harmonisation (C)"][0] == list(range(42, 50)) and bars["fusion"][0] == [41]
    assert not any(label.startswith("Eq.5") for label in bars) and "Eq.5" not in text


def test_plan_json_names_pictures_relative_to_the_scene_and_reads_back_whole(tmp_path, capsys):
    """No absolute path in `dedit plan --json` (it is shared, diffed, put in bug reports); read back with the
    scene's folder as its base, it is the plan the compiler made, and renders."""
    from designedit import compile as compile_scene, load
    from designedit.plan.recipes import materialize

    pictures, scenes = tmp_path / "pictures", tmp_path / "scenes"
    pictures.mkdir()
    scenes.mkdir()
    for p in CONFORMANCE.iterdir():
        if p.suffix == ".png":
            shutil.copyfile(p, pictures / p.name)
    text = (CONFORMANCE / "move-resize.dedit").read_text().replace('src="', 'src="../pictures/')
    scene = scenes / "move-resize.dedit"
    scene.write_text(text)
    assert main(["plan", str(scene), "--json", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) not in out
    loads = [op["args"]["src"] for image in json.loads(out)["images"] for op in image["ops"] if op["op"] == "load"]
    assert loads and all(src.startswith("../pictures/") for src in loads)

    compiled = compile_scene(load(scene, root=tmp_path))
    read_back = Plan.from_json(out, base=scenes)
    assert read_back.to_json() == compiled.to_json()  # absolute again, byte for byte
    image = read_back.image(read_back.background)
    assert materialize(image, read_back.canvas).shape[:2] == (read_back.canvas.height, read_back.canvas.width)
    assert Plan.from_json(read_back.to_json(relative_to=scenes), base=scenes).to_json() == compiled.to_json()
