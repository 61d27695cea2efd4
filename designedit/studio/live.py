"""The studio's render loop: watch mode's `Watcher` (one renderer kept loaded, caches kept, re-render on
save, invalid saves reported with the last picture kept), publishing each outcome on the `Board`.

- A render's picture is published as soon as it is written; its overlays and plan timeline follow (they
  need one more compile, which the page can wait for).
- A gesture's write is rendered at once (`poke`), without the debounce an editor's burst of writes needs.
- A newer change supersedes a render in flight: the renderer's progress callback, called between steps,
  stops the render when the scene's inputs changed since it started (a save that changes nothing, such
  as the file event of a write already being rendered, does not).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from designedit.errors import DeditError, Superseded
from designedit.plan.svg import plan_svg
from designedit.rendering.session import RenderSession
from designedit.studio.overlays import overlays_of
from designedit.watch import Target, Watcher, _fingerprint, _now

Say = Callable[[str], None]


class _Recording:
    """The session as the watcher sees it, remembering the last scene rendered and its result."""

    def __init__(self, session: RenderSession) -> None:
        self.inner = session
        self.scene: Any = None
        self.result: Any = None

    @property
    def name(self) -> str:
        return self.inner.name

    def render(self, scene, **kwargs):
        self.scene, self.result = scene, None
        self.result = self.inner.render(scene, **kwargs)
        return self.result


class _Steps:
    """The renderer's progress callback: stops a superseded render, and forwards to the console's bar."""

    def __init__(self, watcher: "StudioWatcher", inner: Any) -> None:
        self.watcher = watcher
        self.inner = inner

    def __call__(self, done: int, total: int) -> None:
        self.watcher.check_superseded()
        if self.inner is not None:
            self.inner(done, total)

    def phase(self, label: str, done: int, total: int) -> None:
        self.watcher.check_superseded()
        if self.inner is not None and hasattr(self.inner, "phase"):
            self.inner.phase(label, done, total)

    def close(self) -> None:
        if self.inner is not None and hasattr(self.inner, "close"):
            self.inner.close()


class StudioWatcher(Watcher):
    def __init__(self, path: Path, session: RenderSession, board: Any, root: Optional[Path] = None,
                 render_args: Optional[dict[str, Any]] = None, say: Say = print, **kwargs: Any) -> None:
        self.recording = _Recording(session)
        self.board = board
        self.echo = say
        self.lines: list[str] = []
        self._started: Optional[tuple[frozenset, str]] = None  # files and fingerprint of the render in flight
        self._checked_event = 0.0
        self.superseded = 0  # renders stopped for a newer change
        self.stopping = False  # set when the studio stops: a render in flight stops at its next step
        self._stopped_render = False
        self._urgent = False  # a gesture's write waits for no debounce
        super().__init__([path], self.recording, root=root, render_args=dict(render_args or {}), say=self._say, **kwargs)
        self.target: Target = self.targets[0]

    # ------------------------------------------------------------ gestures

    def poke(self) -> None:
        """The scene was just written by a gesture: render it now (no debounce, even when the file event of
        that write arrives first)."""
        with self._lock:
            self._dirty.add(0)
            self._urgent = True
        self._wake.set()

    def _due(self) -> Optional[set[int]]:
        with self._lock:
            if self._urgent and self._dirty:
                self._urgent = False
                batch, self._dirty = self._dirty, set()
                return batch
        return super()._due()

    def check_superseded(self) -> None:
        """Raise Superseded when the inputs changed since the render in flight started."""
        started = self._started
        if started is not None and self.stopping:
            self._stopped_render = True
            raise Superseded("the studio is stopping.")
        if started is None or not self._dirty or self._last_event == self._checked_event:
            return
        self._checked_event = self._last_event
        files, fingerprint = started
        if _fingerprint(self.target.path, set(files)) != fingerprint:
            self._stopped_render = True
            raise Superseded("a newer change arrived while rendering.")

    # ------------------------------------------------------------ rendering

    def _say(self, line: str) -> None:
        self.lines.append(line)
        self.echo(line)

    def render_target(self, target: Target) -> bool:
        files = frozenset(target.files)
        fingerprint = _fingerprint(target.path, set(files))
        if fingerprint == target.fingerprint or self.stopping:
            return True
        renders, failures = target.renders, target.failures
        self.lines = []
        self._started = (files, fingerprint)
        self.board.publish(busy=True)
        console = self.render_args.pop("progress", None)
        self.render_args["progress"] = _Steps(self, _console_progress(self.recording.inner) if console is None else console)
        started = time.perf_counter()
        try:
            ok = super().render_target(target)
        finally:
            self._started = None
            self.render_args.pop("progress", None)
        if target.renders > renders:
            self._publish_picture(target, time.perf_counter() - started)
        elif target.failures > failures:
            self.board.publish(busy=False, failed=True, errors=self._problems())
        else:
            self.board.publish(busy=False)
        return ok

    def _failed(self, target: Target, fingerprint: str, why: str) -> bool:
        if self._stopped_render:  # not a failure: a newer change (or the end) made this render pointless
            self._stopped_render = False
            target.fingerprint = None  # render again, whatever the next fingerprint is
            if not self.stopping:
                self.superseded += 1
                self.echo(f"[{_now()}] superseded by a newer change; rendering that")
            return False
        return super()._failed(target, fingerprint, why)

    def _problems(self) -> list[str]:
        """The located problems said for the last attempt, then the one-line summary."""
        return [line for line in self.lines if not line.startswith("warning: ")]

    def _publish_picture(self, target: Target, seconds: float) -> None:
        result = self.recording.result
        stats = dict(result.stats)
        # what the page fetches until the next picture: kept apart from the render in flight
        self.shown_scene = self.recording.scene
        self.picture_path = Path(stats["output"]) if stats.get("output") else None
        status = next((line for line in reversed(self.lines) if line.startswith("[")), "")
        self.board.publish(
            busy=False,
            failed=False,
            errors=[],
            picture={"n": target.renders, "width": stats["canvas"][0], "height": stats["canvas"][1]},
            status={
                "line": status,
                "seconds": round(seconds, 3),
                "unet_evals": stats.get("unet_evals", 0),
                "cache_hits": stats.get("cache_hits", 0),
                "resumed_at_step": stats.get("resumed_at_step"),
                "renderer": stats.get("renderer"),
                "at": time.strftime("%H:%M:%S"),
            },
            stats=_plain(stats),
            warnings=list(stats.get("warnings", [])),
        )
        try:
            plan_text, overlays = geometry(self.recording.scene, self.recording.inner, self.render_args)
        except DeditError as exc:  # the render compiled the same scene: only a change of file in between
            self.echo(f"overlays not drawn: {exc}")
            return
        self.latest_plan_svg = plan_text
        self.board.publish(overlays=overlays, plan_n=target.renders)

    latest_plan_svg: str = ""
    shown_scene: Any = None  # the scene of the last picture (its background is the "before")
    picture_path: Optional[Path] = None  # the last picture written


def geometry(scene: Any, session: RenderSession, render_args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The plan's timeline (SVG) and the overlays, compiled as the session compiles for its renderer."""
    from designedit.compiler import resolve_options, schedule_steps
    from designedit.compiler.assemble import assemble
    from designedit.compiler.lowering import lower

    renderer = session.renderer
    opts = resolve_options(scene, render_args.get("schedule"), render_args.get("steps"), renderer.latent_scale,
                           render_args.get("seed"), None)
    lowered = lower(scene, opts, getattr(renderer, "native_size", 1024))
    given, scheduled = schedule_steps(lowered)
    plan = assemble(lowered, given, scheduled)
    name = scene.origin.path.name if scene.origin is not None and scene.origin.path is not None else ""
    return plan_svg(plan, title=name), overlays_of(lowered).to_json()


def _console_progress(session: RenderSession) -> Any:
    if not session.options.progress:
        return None
    from designedit.rendering.session import Progress

    return Progress(f"{session.name} render")


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    """The stats as JSON carries them (a path, a numpy number, nested or not, as text or a number)."""
    return json.loads(json.dumps(stats, default=lambda value: value.item() if hasattr(value, "item") else str(value)))


def start_thread(watcher: StudioWatcher, stop: threading.Event) -> tuple[threading.Thread, threading.Event]:
    """Run the watcher in a daemon thread; returns it and an event set once the first render is done."""
    ready = threading.Event()

    def loop() -> None:
        try:
            watcher.run(stop=stop, ready=ready.set)
        except Exception as exc:  # noqa: BLE001 - said on the console and on the page; the server keeps serving
            watcher.echo(f"the render loop stopped: {type(exc).__name__}: {exc}")
            watcher.board.publish(busy=False, failed=True, errors=[f"the render loop stopped: {exc}"])
            ready.set()

    thread = threading.Thread(target=loop, name="dedit-studio-render", daemon=True)
    thread.start()
    return thread, ready
