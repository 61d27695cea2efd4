"""Ctrl-C and SIGTERM against the real `dedit` program: at start-up, once its files are written, after its exit
status is decided, and in-process around the commit. Each signal is sent while dedit waits at a named point
($DEDIT_DEBUG_PAUSE), so nothing here depends on timing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli_fixtures import leftovers, no_model, scene  # noqa: F401 (fixtures)
from designedit.cli import main

WAIT = 120  # a guard against a hang on a loaded machine, not a speed limit
SIGNALS = {"SIGINT": (signal.SIGINT, "interrupted", 130), "SIGTERM": (signal.SIGTERM, "terminated", 143)}


def _default_sigint() -> None:
    # a shell's background jobs (and so, maybe, this test run) ignore SIGINT, which dedit rightly keeps ignoring;
    # a user's Ctrl-C reaches a foreground program, whose SIGINT is the default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def dedit_stopped_at(point: str, signum: int, args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run `python -m designedit ARGS` (main() as the program's entry point), send `signum` once it says it is
    paused at `point`; (exit status, stdout, stderr after the pause line)."""
    env = {**os.environ, "DEDIT_DEBUG_PAUSE": point, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "designedit", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint)
    try:
        before = []
        for line in proc.stderr:
            if line == f"dedit: paused at {point}\n":
                break
            before.append(line)
        else:
            raise AssertionError(f"dedit never paused at {point}: {''.join(before)}")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, out, err


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_once_the_files_are_written_leaves_a_complete_render_and_status_0(scene, name):
    signum, word, _ = SIGNALS[name]
    folder = scene.parent
    status, out, err = dedit_stopped_at("written", signum, ["render", scene.name, "--renderer", "preview", "-o", "out/a.png",
                                                            "--layers", "out/layers", "--stats", "out/stats.json"], folder)
    assert status == 0
    assert out.startswith("wrote out/a.png (512x384) with preview")
    assert err == f"dedit: {word} once the results were being written; they were all written, whole.\n"
    assert (folder / "out" / "a.png").is_file() and (folder / "out" / "stats.json").is_file()
    assert (folder / "out" / "layers" / "background.png").is_file() and leftovers(folder) == []


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_after_the_exit_status_is_decided_changes_nothing(scene, name):
    status, out, err = dedit_stopped_at("exit", SIGNALS[name][0], ["render", scene.name, "--renderer", "preview"], scene.parent)
    assert (status, err) == (0, "")
    assert out.startswith("wrote scene.png") and (scene.parent / "scene.png").is_file()


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_during_start_up_is_one_line(scene, name):
    signum, word, code = SIGNALS[name]
    status, out, err = dedit_stopped_at("startup", signum, ["render", scene.name, "--renderer", "preview"], scene.parent)
    assert (status, out, err) == (code, "", f"dedit: {word}; nothing was written.\n")
    assert not (scene.parent / "scene.png").exists()


def test_what_runs_before_main_can_answer_is_light():
    """Before main() installs its handlers, a Ctrl-C can only print Python's traceback: importing the command
    line must not take the slow imports (pydantic, numpy, lxml, Pillow) with it, so that moment is brief."""
    heavy = ("pydantic", "numpy", "lxml", "PIL", "cv2", "torch")
    code = f"import sys, designedit.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr


def test_the_bounds_still_read_the_document_model():
    """They are read on first use now (the model is slow to import): still the document's own."""
    import designedit.checks.arguments as arguments
    from designedit.model import scene as model
    from designedit.model import vocab

    assert arguments.MAX_STEPS == int(vocab.field(model.Render, "steps").high[1])
    with pytest.raises(arguments.ArgumentError, match=f"between 1 and {arguments.MAX_STEPS}"):
        arguments.steps(arguments.MAX_STEPS + 1)
    assert arguments.SCHEDULES == ("fast", "reference")
    with pytest.raises(AttributeError):
        arguments.NOT_A_BOUND  # noqa: B018


@pytest.mark.parametrize("name", SIGNALS)
def test_in_process_a_signal_after_the_rename_is_held_then_handed_back(scene, monkeypatch, capsys, name):
    """main(argv) inside another program: a signal that comes once the picture is renamed into place waits
    for the render to finish (status 0, every file whole), then reaches that program's own handler."""
    import designedit.rendering.atomic as atomic

    signum, word, _ = SIGNALS[name]
    real_replace, seen = atomic.os.replace, []

    def replace_then_signal(src, dst):
        real_replace(src, dst)
        if not seen:
            os.kill(os.getpid(), signum)
            seen.append("sent")

    monkeypatch.setattr(atomic.os, "replace", replace_then_signal)
    previous = {s: signal.signal(s, lambda n, frame: seen.append(n)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert main(["render", str(scene), "--layers", str(scene.parent / "layers")]) == 0
        handed_back = list(seen)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert handed_back == ["sent", signum]  # the program's handler saw it once, after main returned
    err = capsys.readouterr().err
    assert err.endswith(f"dedit: {word} once the results were being written; they were all written, whole.\n")
    assert (scene.parent / "scene.png").is_file() and (scene.parent / "layers" / "background.png").is_file()


def test_plan_holds_a_signal_once_its_timeline_is_in_place(scene, monkeypatch, capsys):
    import designedit.rendering.atomic as atomic

    real_replace = atomic.os.replace

    def replace_then_signal(src, dst):
        real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(atomic.os, "replace", replace_then_signal)
    caught = []
    previous = signal.signal(signal.SIGTERM, lambda n, frame: caught.append(n))
    try:
        assert main(["plan", str(scene), "--svg", str(scene.parent / "plan.svg")]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert caught == [signal.SIGTERM] and (scene.parent / "plan.svg").is_file()
    assert "timeline written to" in capsys.readouterr().out
