"""Templates and manifests (issue 15 item 2): `dedit render TEMPLATE --each manifest.csv` writes one output
per row; bad rows are located `manifest.csv:LINE` and the others render; braces in a 1.0 or 1.1 document
keep their old meaning (a file's name); `dedit validate --each` checks every row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from batch_fixtures import move_scene, pixels, tinted
from designedit.cli import main
from render_fixtures import write_ball_scenes


@pytest.fixture()
def catalogue(tmp_path: Path) -> Path:
    """template.dedit (1.2: the picture is `shots/{shot}.png`), five shots, and a manifest of five rows whose
    outputs go to out/ beside the manifest, in a folder of its own."""
    write_ball_scenes(tmp_path)
    for i in range(5):
        tinted(tmp_path, f"shots/s{i}.png", 10 * i - 20)
    (tmp_path / "template.dedit").write_text(move_scene(96, "shots/{shot}.png", version="1.2"))
    (tmp_path / "rows").mkdir()
    (tmp_path / "rows" / "manifest.csv").write_text(
        "shot,output\n" + "".join(f"s{i},out/shot-{i}.png\n" for i in range(5)))
    return tmp_path


def test_each_row_writes_its_own_correct_output(catalogue, capsys):
    manifest = catalogue / "rows" / "manifest.csv"
    assert main(["render", str(catalogue / "template.dedit"), "--each", str(manifest), "--renderer", "preview"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("batch: 5 of 5 rendered in ")
    for i in range(5):
        line = i + 2
        assert f"ok      {manifest}:{line} -> {catalogue / 'rows' / 'out' / f'shot-{i}.png'} (512x384, preview" in out
        # the same as rendering a plain scene that names the row's picture
        (catalogue / f"plain-{i}.dedit").write_text(move_scene(96, f"shots/s{i}.png"))
        assert main(["render", str(catalogue / f"plain-{i}.dedit"), "--renderer", "preview"]) == 0
        np.testing.assert_array_equal(pixels(catalogue / "rows" / "out" / f"shot-{i}.png"), pixels(catalogue / f"plain-{i}.png"))
    assert len({pixels(catalogue / "rows" / "out" / f"shot-{i}.png").tobytes() for i in range(5)}) == 5


def test_bad_rows_are_located_and_the_others_render(catalogue, capsys):
    (catalogue / "shots" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    manifest = catalogue / "rows" / "manifest.csv"
    manifest.write_text(
        "shot,output\n"
        "s0,out/a.png\n"            # 2: fine
        ",out/b.png\n"              # 3: empty value
        "missing,out/c.png\n"       # 4: no such picture
        "broken,out/d.png\n"        # 5: not a picture
        "s1,../../escape.png\n"     # 6: output leaves the allowed root (the manifest's folder)
        "s2,out/a.png\n"            # 7: the output of line 2 again
        "s3,out/e.jpg\n"            # 8: not a .png
        "s4\n"                      # 9: a field missing
        "\n"
        "s4,out/f.png\n"            # 11: fine, after a blank line
    )
    assert main(["render", str(catalogue / "template.dedit"), "--each", str(manifest), "--renderer", "preview"]) == 2
    out, err = capsys.readouterr()
    words = {line.split()[1]: line.split()[0] for line in out.splitlines()[:-1]}
    assert words == {f"{manifest}:{n}": ("ok" if n in (2, 11) else "bad") for n in (2, 3, 4, 5, 6, 7, 8, 9, 11)}
    problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    assert problems == [
        f"{manifest}:3: the 'shot' column is empty",
        f"{manifest}:4: shot: 'shots/missing.png' does not exist",
        f"{manifest}:5: shot: " + next(p for p in problems if p.startswith(f"{manifest}:5: shot: ")).split("shot: ", 1)[1],
        f"{manifest}:6: output: '../../escape.png' points outside the allowed folder {catalogue / 'rows'} (--root allows a wider one)",
        f"{manifest}:7: output: 'out/a.png' is also the output of line 2; each row writes its own picture",
        f"{manifest}:8: output: 'out/e.jpg' must end in .png; dedit writes PNG pictures",
        f"{manifest}:9: the row has 1 fields; the header has 2",
    ]
    assert "broken.png" in problems[2]
    assert sorted(p.name for p in (catalogue / "rows" / "out").iterdir()) == ["a.png", "f.png"]
    assert not (catalogue / "escape.png").exists()


@pytest.mark.parametrize("header, problem", [
    ("picture,output", ["the column 'picture' is no placeholder of {t} (its placeholders: {{shot}})",
                        "there is no column for the placeholder {{shot}} of {t}"]),
    ("shot", ["there is no 'output' column (the picture each row writes)"]),
    ("shot,output,shot", ["the column 'shot' is named twice"]),
])
def test_a_header_no_row_could_use_stops_the_command(catalogue, capsys, header, problem):
    manifest = catalogue / "rows" / "manifest.csv"
    manifest.write_text(header + "\ns0,out/a.png\n")
    assert main(["render", str(catalogue / "template.dedit"), "--each", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"{manifest}:1: {p.format(t=catalogue / 'template.dedit')}" for p in problem]
    assert not (catalogue / "rows" / "out").exists()


def test_a_template_alone_is_refused_where_its_placeholder_is(catalogue, capsys):
    assert main(["render", str(catalogue / "template.dedit")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{catalogue / 'template.dedit'}:3:17: {{shot}} is a placeholder: this scene is a template, rendered with "
        "--each MANIFEST.csv (one row per output)"]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_braces_before_1_2_name_a_file_as_they_always_did(tmp_path, version, capsys):
    write_ball_scenes(tmp_path)
    (tmp_path / "{shot}.png").write_bytes((tmp_path / "poster.png").read_bytes())
    (tmp_path / "old.dedit").write_text(move_scene(96, "{shot}.png", version=version))
    assert main(["render", str(tmp_path / "old.dedit"), "--renderer", "preview"]) == 0
    (tmp_path / "m.csv").write_text("shot,output\nposter,a.png\n")
    assert main(["render", str(tmp_path / "old.dedit"), "--each", str(tmp_path / "m.csv")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{tmp_path / 'old.dedit'}: the scene has no placeholders ({{name}} in a picture's src, format 1.2 and later), "
        "so --each has nothing to fill")


def test_braces_that_are_no_placeholder_stay_braces_in_1_2(tmp_path):
    write_ball_scenes(tmp_path)
    (tmp_path / "a{1}.png").write_bytes((tmp_path / "poster.png").read_bytes())
    (tmp_path / "braces.dedit").write_text(move_scene(96, "a{1}.png", version="1.2"))
    assert main(["render", str(tmp_path / "braces.dedit"), "--renderer", "preview"]) == 0


def test_validate_checks_a_template_and_each_row(catalogue, capsys):
    template, manifest = catalogue / "template.dedit", catalogue / "rows" / "manifest.csv"
    assert main(["validate", str(template)]) == 0
    assert capsys.readouterr().out == f"{template}: valid template ({{shot}}; --each MANIFEST.csv checks its rows)\n"
    assert main(["validate", str(template), "--each", str(manifest)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{manifest}:{n}: valid" for n in range(2, 7)]
    manifest.write_text("shot,output\ns0,a.png\nnope,b.png\n")
    assert main(["validate", str(template), "--each", str(manifest)]) == 2
    out, err = capsys.readouterr()
    assert out == f"{manifest}:2: valid\n"
    assert err == f"{manifest}:3: shot: 'shots/nope.png' does not exist\n"
    assert not (catalogue / "rows" / "a.png").exists()  # validating writes nothing


def test_a_template_converts_with_its_placeholders(catalogue, capsys):
    assert main(["convert", str(catalogue / "template.dedit"), "--to", "json"]) == 0
    assert '"src": "shots/{shot}.png"' in capsys.readouterr().out


def test_rows_in_processes_have_the_serial_pixels(catalogue, tmp_path, capsys):
    manifest = catalogue / "rows" / "manifest.csv"
    template = str(catalogue / "template.dedit")
    assert main(["render", template, "--each", str(manifest), "--renderer", "preview"]) == 0
    serial = {i: pixels(catalogue / "rows" / "out" / f"shot-{i}.png") for i in range(5)}
    manifest.write_text("shot,output\n" + "".join(f"s{i},jobs/shot-{i}.png\n" for i in range(5)))
    assert main(["render", template, "--each", str(manifest), "--renderer", "preview", "--jobs", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("batch: 5 of 5 rendered")
    for i in range(5):
        np.testing.assert_array_equal(pixels(catalogue / "rows" / "jobs" / f"shot-{i}.png"), serial[i])
