"""Memory exhaustion: one sentence and exit status 1, never a traceback, whichever library ran out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from cli_fixtures import leftovers, no_model, scene  # noqa: F401 (fixtures)
from dedit_preview import PreviewRenderer
from designedit.cli import main

ONE_LINE = ("dedit: out of memory: the command needed more memory than this machine could give "
            "(a smaller canvas, or fewer masks, need less).\n")


def _cv2_out_of_memory():
    import cv2

    exc = cv2.error("OpenCV(5.1.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate 36000000 bytes")
    exc.code = -4  # as OpenCV sets it (StsNoMem)
    return exc


def _torch_out_of_memory():
    import torch

    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")  # what a full GPU raises


class OutOfMemoryError(RuntimeError):
    """Another package's class of the same name: not taken for the GPU's."""


@pytest.mark.parametrize("make, line", [
    (MemoryError, ONE_LINE),
    (_cv2_out_of_memory, ONE_LINE),
    (_torch_out_of_memory,
     "dedit: out of memory on the GPU: the render needed more than it could give (--offload, a smaller canvas or "
     "--dtype fp16 need less).\n"),
])
def test_running_out_of_memory_is_one_sentence_and_status_1(scene, monkeypatch, capsys, make, line):
    def exhausted(self, plan, progress=None):
        raise make()

    monkeypatch.setattr(PreviewRenderer, "render", exhausted)
    assert main(["render", str(scene)]) == 1
    err = capsys.readouterr().err
    assert err.endswith(line) and "Traceback" not in err and err.count("\n") == 2  # the renderer line, then this
    assert not (scene.parent / "scene.png").exists() and leftovers(scene.parent) == []


@pytest.mark.parametrize("make", [
    lambda: __import__("cv2").error("(-215:Assertion failed) !ssize.empty()"),  # code unset: not StsNoMem
    lambda: OutOfMemoryError("not torch's"),
])
def test_other_errors_are_not_taken_for_memory(scene, monkeypatch, make):
    error = make()

    def broken(self, plan, progress=None):
        raise error

    monkeypatch.setattr(PreviewRenderer, "render", broken)
    with pytest.raises(type(error)):
        main(["render", str(scene)])


def test_a_real_exhaustion_in_a_limited_process_is_one_sentence(tmp_path):
    """The process's address space capped a little above what it uses once its imports are done: the render of
    a 36-megapixel canvas then fails where numpy, Pillow or OpenCV first asks for more."""
    Image.new("RGB", (64, 48), (200, 100, 50)).save(tmp_path / "small.png")
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (10, 10, 30, 30))
    mask.save(tmp_path / "m.png")
    (tmp_path / "big.dedit").write_text(json.dumps({
        "dedit": "1.0", "canvas": {"width": 6000, "height": 6000},
        "images": [{"id": "a", "src": "small.png"}], "masks": [{"id": "m", "src": "m.png"}],
        "background": {"image": "a"},
        "layers": [{"id": "l", "image": "a", "mask": "m", "transforms": [{"op": "move", "dx": 100, "dy": 0}]}]}))
    script = (
        "import resource, sys\n"
        "import cv2, numpy, designedit.cli, designedit.rendering.session, dedit_preview\n"
        "size = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize:')) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size + 200 * 2**20, resource.RLIM_INFINITY))\n"
        "sys.exit(designedit.cli.main(['render', 'big.dedit', '--renderer', 'preview']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.splitlines()[-1] + "\n") == (1, ONE_LINE), done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "big.png").exists()
