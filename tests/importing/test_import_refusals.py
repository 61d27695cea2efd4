"""Hostile and broken comps are refused with exit status 2 and one located sentence, and nothing is written;
an import that fails part-way leaves nothing behind; the comp is only ever read. (How fast the refusals are
is measured by bench/hostile_comps.py, not here.)"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from designedit.cli import main
from designedit.errors import DeditError
from designedit.importing import import_comp, output

from comps import copy_comp
from hostile import CASES, write


@pytest.mark.parametrize("case,name,maker,says", CASES, ids=[c[0] for c in CASES])
def test_hostile_comp_is_refused_and_nothing_is_written(tmp_path, capsys, case, name, maker, says):
    comp = write(tmp_path, name, maker)
    before = sorted(os.listdir(tmp_path))
    assert main(["import", str(comp), "-o", str(tmp_path / "scene.dedit")]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.startswith(str(comp)), err
    assert len(err.splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == before


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    comp = copy_comp("full.psd", tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    calls = []
    real = output._write

    def failing(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(output, "_write", failing)
    with pytest.raises(DeditError, match="no space left"):
        import_comp(comp, out / "scene.dedit")
    assert len(calls) == 3 and list(out.iterdir()) == []


def test_an_interrupted_import_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C while the scene is checked (the last step before anything is moved into place)."""
    comp = copy_comp("full.ora", tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    import designedit.compiler as compiler

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compiler, "compile_scene", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_comp(comp, out / "scene.dedit", pictures=out / "a" / "b")
    assert list(out.iterdir()) == []


def test_the_comp_is_only_read(tmp_path):
    comp = copy_comp("full.psd", tmp_path / "in")
    comp.chmod(stat.S_IRUSR | stat.S_IRGRP)
    (tmp_path / "in").chmod(stat.S_IRUSR | stat.S_IXUSR)  # a read-only folder too (root may write anyway)
    try:
        before = (comp.read_bytes(), comp.stat().st_mtime_ns)
        assert main(["import", str(comp), "-o", str(tmp_path / "scene.dedit")]) == 0
        assert (comp.read_bytes(), comp.stat().st_mtime_ns) == before
        assert sorted(os.listdir(tmp_path / "in")) == ["full.psd"]
    finally:
        (tmp_path / "in").chmod(0o755)


@pytest.mark.parametrize("args,says", [
    (["-o", "{comp}"], "is the comp being imported"),
    (["-o", "{tmp}/s.dedit", "--pictures", "{tmp}/../elsewhere"], "is not inside the scene's folder"),
    (["--onto", "{tmp}/s.dedit", "-o", "{tmp}/t.dedit"], "--onto updates SCENE in place"),
])
def test_unusable_destinations_are_refused_before_any_work(tmp_path, capsys, args, says):
    comp = copy_comp("move.ora", tmp_path)
    (tmp_path / "s.dedit").write_text("<dedit/>")
    before = _tree(tmp_path)
    argv = ["import", str(comp)] + [a.format(comp=comp, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    assert says in capsys.readouterr().err
    assert _tree(tmp_path) == before


def test_the_reader_and_the_writer_agree_on_the_namespace_of_recorded_places():
    from designedit.importing.ora_reader import DEDIT_NAMESPACE as read
    from designedit.rendering.ora import DEDIT_NAMESPACE as written

    assert read == written
