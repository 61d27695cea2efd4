"""Output destinations are checked before anything is rendered; bad command-line input exits 2."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import stat
from pathlib import Path

import pytest

from dedit_preview import PreviewRenderer
from designedit.rendering.atomic import why_unwritable
from designedit.cli import build_parser, main
from designedit.errors import DestinationError
from designedit.rendering.outputs import check_destination

from cli_fixtures import leftovers, no_model, scene, scene_json  # noqa: F401 (fixtures)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture()
def no_render(monkeypatch):
    """A renderer that fails the test if it is even chosen: the checks must come first."""
    import designedit.rendering.session as rendering

    def refuse(*args, **kwargs):
        raise AssertionError("a renderer was chosen before the outputs were checked")

    monkeypatch.setattr(rendering, "choose_renderer", refuse)


@pytest.fixture()
def blocked(tmp_path):
    """(a folder nothing can be written into, the words that say why). chmod 0o500 blocks writes only for
    ordinary users: as root the folder is a regular file instead (a file used as a folder), which blocks
    everyone."""
    if not IS_ROOT:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        yield folder, f"permission denied in {folder}"
        folder.chmod(0o700)
    else:
        folder = tmp_path / "a-file"
        folder.write_text("not a folder")
        yield folder, f"{folder} is a file, not a folder"


def only_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("flag", ["-o", "--layers", "--stats"])
def test_an_unwritable_destination_fails_before_rendering_and_writes_nothing(scene, blocked, no_render, capsys, flag):
    folder, why = blocked
    target = {"-o": folder / "x.png", "--layers": folder / "layers", "--stats": folder / "stats.json"}[flag]
    before = files_in(scene.parent)
    assert main(["render", str(scene), flag, str(target)]) == 2
    assert only_line(capsys.readouterr().err) == f"dedit: cannot write {target}: {why}."
    assert files_in(scene.parent) == before  # not even the main picture when only --layers is blocked


def test_a_file_used_as_a_folder_is_named_as_such(scene, no_render, capsys):
    # `-o scene.dedit/x.png`: mkdir used to say "File exists"
    assert main(["render", str(scene), "-o", str(scene / "deeper" / "x.png")]) == 2
    err = only_line(capsys.readouterr().err)
    assert err == f"dedit: cannot write {scene / 'deeper' / 'x.png'}: {scene} is a file, not a folder."
    assert main(["render", str(scene), "--layers", str(scene.parent / "poster.png")]) == 2
    assert only_line(capsys.readouterr().err).endswith(f"{scene.parent / 'poster.png'} is a file, not a folder.")


def test_the_layers_folder_blocked_means_no_main_picture_either(scene, blocked, capsys):
    folder, _ = blocked
    assert main(["render", str(scene), "--layers", str(folder / "layers")]) == 2
    assert not (scene.parent / "scene.png").exists() and leftovers(scene.parent) == []


def test_missing_output_folders_are_created_but_only_when_everything_can_be_written(scene, blocked, capsys):
    folder, _ = blocked
    out = scene.parent / "new" / "deeper" / "x.png"
    assert main(["render", str(scene), "-o", str(out), "--stats", str(folder / "s.json")]) == 2
    assert not (scene.parent / "new").exists()
    assert main(["render", str(scene), "-o", str(out), "--layers", str(scene.parent / "new" / "layers"),
                 "--stats", str(scene.parent / "stats" / "s.json")]) == 0
    assert out.is_file() and (scene.parent / "new" / "layers" / "x.ora").is_file()
    assert (scene.parent / "stats" / "s.json").is_file()
    help_text = build_parser()._subparsers._group_actions[0].choices["render"].format_help()
    assert "missing folders are created" in help_text and "(created if missing)" in help_text


@pytest.mark.parametrize(
    "code, words",
    [(errno.EROFS, "is on a read-only file system"), (errno.EACCES, "permission denied in"), (errno.EPERM, "permission denied in")],
)
def test_the_probe_reports_the_reason_in_words(tmp_path, monkeypatch, code, words):
    import designedit.rendering.atomic as atomic

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    why = why_unwritable(tmp_path / "x.png")
    assert why == (f"{tmp_path} {words}" if code == errno.EROFS else f"{words} {tmp_path}")
    with pytest.raises(DestinationError) as err:
        check_destination(tmp_path / "layers", folder=True)
    assert err.value.exit_status == 2 and str(err.value).startswith(f"cannot write {tmp_path / 'layers'}: ")


def test_the_probe_leaves_nothing_behind_and_accepts_what_can_be_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "old.png").chmod(stat.S_IRUSR)  # a read-only file is replaced, not written into
    assert why_unwritable(tmp_path / "old.png") is None
    assert why_unwritable(tmp_path / "missing" / "deeper" / "x.png") is None
    assert why_unwritable(tmp_path / "missing", folder=True) is None
    assert why_unwritable(Path("relative.png")) is None
    assert files_in(tmp_path) == ["old.png"]


def test_watch_checks_its_outputs_at_start(scene, blocked, no_render, capsys):
    folder, why = blocked
    handler = signal.getsignal(signal.SIGTERM)
    assert main(["watch", str(scene), "-o", str(folder / "live.png")]) == 2
    assert only_line(capsys.readouterr().err) == f"dedit: cannot write {folder / 'live.png'}: {why}."
    # the scene's own output too (here: its default, FILE with .png, where a folder stands)
    (scene.parent / "scene.png").mkdir()
    assert main(["watch", str(scene)]) == 2
    assert "scene.png is a folder, not a file." in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == handler  # watch puts the SIGTERM handler back


def test_usage_errors_found_by_dedit_exit_2_like_argparse(scene, tmp_path, no_render, capsys):
    other = tmp_path / "other.dedit"
    other.write_text(scene_json())
    assert main(["watch", str(scene), str(other), "-o", str(tmp_path / "o.png")]) == 2
    assert only_line(capsys.readouterr().err) == "dedit: -o names one picture, so it can be used with one FILE only."
    assert main(["watch", str(tmp_path / "absent.dedit")]) == 2
    assert "absent.dedit is not a file" in capsys.readouterr().err
    for argv, words in [
        (["render", str(scene), "-o", "x.jpg"], "x.jpg is not a .png file name"),
        (["watch", str(scene), "-o", "x.jpg"], "x.jpg is not a .png file name"),
        (["render", str(scene), "--renderer", "nope"], "no renderer named 'nope' is installed"),
        (["watch", str(scene), "--renderer", "nope"], "no renderer named 'nope' is installed"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2, argv
        assert words in capsys.readouterr().err
    assert not (tmp_path / "x.jpg").exists()


def _subcommands() -> dict:
    return build_parser()._subparsers._group_actions[0].choices


@pytest.mark.parametrize("command", ["render", "watch", "plan"])
def test_custom_value_types_say_what_they_expect_in_plain_words(command, capsys):
    parser = _subcommands()[command]
    typed = [a for a in parser._actions if callable(a.type) and getattr(a.type, "__module__", "").startswith("designedit")]
    assert typed, "the custom types are found"
    for action in typed:
        with pytest.raises(SystemExit) as exit_:
            main([command, "scene.dedit", action.option_strings[-1], "abc"])
        err = capsys.readouterr().err.splitlines()[-1]
        assert exit_.value.code == 2 and "abc" in err
        assert "invalid" not in err and not any(word.startswith("_") for word in err.split()), err


def test_help_descriptions_are_plain_text_and_document_the_defaults():
    for name, parser in _subcommands().items():
        assert "`" not in (parser.description or ""), name
    render = _subcommands()["render"]
    helps = {a.dest: a.help or "" for a in render._actions}
    assert "default: the scene's, else fast" in helps["schedule"]
    assert helps["device"] and helps["dtype"] and "fp32 on CPU" in helps["dtype"]
    assert "default: the scene's, else fast" in {a.dest: a.help for a in _subcommands()["plan"]._actions}["schedule"]
    watch_help = _subcommands()["watch"].format_help()
    assert "SIGTERM" in watch_help and "143" in watch_help
    render_help = " ".join(render.format_help().split())
    assert "130 interrupted (Ctrl-C); 143 terminated (SIGTERM)" in render_help


def test_a_model_option_given_to_the_preview_gets_one_note(scene, capsys):
    assert main(["render", str(scene), "--device", "cuda", "--dtype", "fp16"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == ["note: the preview renderer ignores --device, --dtype (they are SDXL options)."]
    assert main(["render", str(scene), "--renderer", "preview", "--offload"]) == 0
    assert "ignores --offload (it is an SDXL option)" in capsys.readouterr().err
    assert main(["render", str(scene), "--device", "auto"]) == 0  # the default is no option given
    assert "note:" not in capsys.readouterr().err


def test_a_renderer_that_reads_the_options_gets_no_note(scene, monkeypatch, capsys):
    import designedit.rendering.select as select

    class Reads(PreviewRenderer):
        options_read = {"device"}

    monkeypatch.setattr(select, "load_renderer_class", lambda name: Reads)
    assert main(["render", str(scene), "--renderer", "preview", "--device", "cpu", "--model", "m"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == ["note: the preview renderer ignores --model (it is an SDXL option)."]


def test_the_probe_writes_where_the_files_will_go(tmp_path, monkeypatch):
    """The probe is a temporary file in the destination's folder (or the nearest existing folder above a
    missing one), like the atomic writer's: that is the folder whose permissions and file system count."""
    import designedit.rendering.atomic as atomic

    probed = []
    real = atomic.tempfile.mkstemp

    def spy(*args, **kwargs):
        probed.append(Path(kwargs["dir"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", spy)
    (tmp_path / "out").mkdir()
    for path, folder in [(tmp_path / "out" / "x.png", False), (tmp_path / "out" / "new" / "x.png", False),
                         (tmp_path / "out", True), (tmp_path / "out" / "layers", True)]:
        assert why_unwritable(path, folder=folder) is None
    assert probed == [tmp_path / "out"] * 4


def test_watch_notes_two_scenes_that_write_one_picture(scene, tmp_path, capsys):
    from designedit.cli.watch_cmd import check_start

    variant = tmp_path / "variant.dedit"
    variant.write_text(scene_json(dx=40, output="scene.png"))  # a copy still naming the original's picture
    other = tmp_path / "other.dedit"
    other.write_text(scene_json(output="other.png"))
    check_start(argparse.Namespace(files=[scene, variant, other], output=None, root=None))
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"note: {scene} and {variant} both write {tmp_path / 'scene.png'}; each render replaces the other's picture."]


def test_a_full_disk_fails_in_one_sentence_and_leaves_no_empty_folder(scene, monkeypatch, capsys):
    import designedit.rendering.atomic as atomic

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    before = files_in(scene.parent)
    out = scene.parent / "renders" / "today" / "out.png"
    assert main(["render", str(scene), "--renderer", "preview", "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"dedit: cannot write {out}: no space left on the device holding {out.parent}."
    assert files_in(scene.parent) == before  # no renders/today left behind, nor a temporary file


@pytest.mark.parametrize("command", ["render", "watch"])
def test_a_cache_folder_that_is_a_file_is_bad_input(scene, no_render, capsys, monkeypatch, command):
    blocker = scene.parent / "cache-file"
    blocker.write_text("not a folder")
    assert main([command, str(scene), "--cache-dir", str(blocker)]) == 2
    assert only_line(capsys.readouterr().err) == (f"dedit: the cache folder {blocker} (--cache-dir) cannot be used: "
                                                  f"{blocker} is a file, not a folder.")
    monkeypatch.setenv("DEDIT_CACHE_DIR", str(blocker / "dedit"))
    assert main([command, str(scene)]) == 2
    assert only_line(capsys.readouterr().err) == (f"dedit: the cache folder {blocker / 'dedit'} ($DEDIT_CACHE_DIR) cannot "
                                                  f"be used: {blocker} is a file, not a folder.")
    assert not (scene.parent / "scene.png").exists()
