"""`dedit serve`'s refusals before it listens: each one sentence and an exit status, nothing served."""

from __future__ import annotations

import sys

import pytest

from designedit.cli import main


def test_without_the_web_extra_serve_says_what_to_install(monkeypatch, tmp_path, capsys):
    for name in ("designedit.service.app", "designedit.service.launch"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if FastAPI were not installed
    assert main(["serve", "--renderer", "preview", "--jobs-dir", str(tmp_path / "jobs")]) == 1
    assert capsys.readouterr().err == "dedit: Serving needs the web extra: pip install 'designedit[web]'.\n"
    assert not (tmp_path / "jobs").exists()


def test_bad_settings_are_refused_before_serving(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    cases = [
        (["--root", str(tmp_path / "missing")], f"dedit: --root {tmp_path / 'missing'} is not a folder.\n"),
        (["--jobs-dir", str(tmp_path / "file")],
         f"dedit: the jobs folder {tmp_path / 'file'} cannot be used: {tmp_path / 'file'} is a file, not a folder.\n"),
    ]
    for args, said in cases:
        assert main(["serve", "--renderer", "preview", *args]) == 2
        assert capsys.readouterr().err == said
    for args, words in [(["--max-upload", "lots"], "the upload limit must be a size such as 4G"),
                        (["--concurrency", "0"], "the worker count must be between 1 and 16, not 0"),
                        (["--port", "70000"], "a port must be between 0 and 65535")]:
        with pytest.raises(SystemExit) as usage:  # argparse's usage error
            main(["serve", *args])
        assert usage.value.code == 2 and words in capsys.readouterr().err
