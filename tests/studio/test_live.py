"""The studio's render loop in-process, on the real scene reader and compiler, with a stand-in renderer session
whose render takes steps (it reports progress as a renderer does) and records what it was asked to render."""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from designedit.rendering.protocol import RenderResult
from designedit.studio.board import Board
from designedit.studio.live import StudioWatcher, start_thread
from studio_process import SCENE, WAIT, write_scene

STEPS = 40


class SteppingSession:
    """A stand-in for RenderSession: `render` ticks `progress` STEPS times, 10 ms apart, then returns the
    layer's move it read from the scene, so a test can tell which version of the file was rendered."""

    name = "stepping"

    def __init__(self) -> None:
        self.renderer = type("R", (), {"latent_scale": 8, "native_size": 1024})()
        self.options = type("O", (), {"progress": False})()
        self.started: list[float] = []
        self.finished: list[float] = []
        self.first_step = threading.Event()

    def render(self, scene, output=None, warn=None, progress=None, **kwargs):
        dx = float(scene.layers[0].transforms[-1].dx)
        self.started.append(dx)
        for step in range(STEPS):
            progress(step, STEPS)
            self.first_step.set()
            time.sleep(0.01)
        self.finished.append(dx)
        return RenderResult(image=np.zeros((1, 1, 3), np.uint8),
                            stats={"unet_evals": STEPS, "cache_hits": 0, "canvas": [512, 384], "renderer": self.name,
                                   "output": str(output)})


def wait(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_newer_change_supersedes_the_render_in_flight(tmp_path):
    scene = write_scene(tmp_path)
    session, board, stop = SteppingSession(), Board(), threading.Event()
    watcher = StudioWatcher(scene, session, board, say=lambda line: None)
    thread, ready = start_thread(watcher, stop)
    try:
        wait(ready.is_set, "the first render")
        assert session.finished == [96.0] and board.get("picture")["n"] == 1
        session.first_step.clear()
        scene.write_text(SCENE.replace('dx="96"', 'dx="120"'))
        watcher.poke()
        wait(session.first_step.is_set, "the second render to start")
        assert watcher.picture_path == scene.parent / "out" / "poster.png"  # the last picture is served meanwhile
        scene.write_text(SCENE.replace('dx="96"', 'dx="150"'))  # while it renders
        watcher.poke()
        wait(lambda: session.finished[-1:] == [150.0], "the newest version rendered")
        assert session.started == [96.0, 120.0, 150.0] and session.finished == [96.0, 150.0]
        assert watcher.superseded == 1
        wait(lambda: board.get("picture")["n"] == 2 and board.get("plan_n") == 2, "the picture and its overlays")
        assert not board.get("failed") and board.get("status")["unet_evals"] == STEPS
    finally:
        stop.set()
        thread.join(timeout=WAIT)


def test_a_save_that_changes_nothing_does_not_stop_the_render(tmp_path):
    """The file event of the very write being rendered (or an editor's save of the same bytes) is no newer change."""
    scene = write_scene(tmp_path)
    session, board, stop = SteppingSession(), Board(), threading.Event()
    watcher = StudioWatcher(scene, session, board, say=lambda line: None)
    thread, ready = start_thread(watcher, stop)
    try:
        wait(ready.is_set, "the first render")
        session.first_step.clear()
        scene.write_text(SCENE.replace('dx="96"', 'dx="120"'))
        watcher.poke()
        wait(session.first_step.is_set, "the second render to start")
        again = scene.with_name("scene.tmp")  # the same text again, saved whole (by rename, as the studio saves):
        again.write_text(SCENE.replace('dx="96"', 'dx="120"'))  # a save that truncates first would be a change
        os.replace(again, scene)
        watcher.notice(str(scene))
        wait(lambda: len(session.finished) == 2, "the second render")
        time.sleep(0.3)  # past the debounce: the same bytes render nothing more
        assert session.finished == [96.0, 120.0] and watcher.superseded == 0
    finally:
        stop.set()
        thread.join(timeout=WAIT)


def test_an_invalid_save_is_published_located_and_the_picture_kept(tmp_path):
    scene = write_scene(tmp_path)
    session, board, stop = SteppingSession(), Board(), threading.Event()
    watcher = StudioWatcher(scene, session, board, say=lambda line: None)
    thread, ready = start_thread(watcher, stop)
    try:
        wait(ready.is_set, "the first render")
        scene.write_text(SCENE.replace('<move dx="96"', '<move dx="ninety"'))
        watcher.poke()
        wait(lambda: board.get("failed"), "the failure")
        errors = board.get("errors")
        assert errors[0].startswith(f"{scene}:11:11: ") and "ninety" in errors[0]
        assert errors[-1].endswith("scene.dedit is invalid; keeping the last picture, still watching")
        assert board.get("picture")["n"] == 1 and len(session.finished) == 1
    finally:
        stop.set()
        thread.join(timeout=WAIT)
