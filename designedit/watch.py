"""Watch mode: re-render a scene whenever it, or any picture it names, changes.

- One renderer instance lives for the whole session (`RenderSession`), so a
  model and any in-memory caches survive from one render to the next.
- The folders holding the scene and every file it references are watched
  with watchdog (folders, not files, so an editor's write-to-temp-and-rename
  is seen); the set is re-resolved after every load, so a newly referenced
  picture is watched from the next render on.
- Events are coalesced: a render starts once no event has arrived for
  `debounce` seconds (an editor's burst of writes is one render). A save that
  changes nothing (same scene bytes, same picture sizes and times) renders
  nothing.
- An invalid document prints its located problems, keeps the last good
  picture (outputs are only ever replaced atomically by a finished render)
  and keeps watching; before a first good render it says no picture was
  written yet. Any other failure is reported the same way.
- One status line per render: time, UNet evaluations, cache hits, the step a remembered branch state
  resumed at.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from designedit.errors import DeditError, SceneError
from designedit.imaging.files import file_version
from designedit.rendering.session import RenderSession, default_output, load_scene, scene_files, work_summary

DEBOUNCE_SECONDS = 0.15
# an editor that saves by rename (write a temporary file, move the old one away, move the new one in)
# leaves the scene's name empty for a moment: wait this long for it before calling the scene missing
MISSING_GRACE_SECONDS = 1.0
Say = Callable[[str], None]


@dataclass
class Target:
    path: Path  # the scene file, resolved
    output: Optional[Path]  # -o, else the scene's default output
    files: set[Path] = field(default_factory=set)  # what to watch: the scene and its pictures
    fingerprint: Optional[str] = None  # of the inputs last rendered or refused
    renders: int = 0
    failures: int = 0


class Watcher:
    def __init__(
        self,
        paths: list[Path],
        session: RenderSession,
        output: Optional[Path] = None,
        root: Optional[Path] = None,
        render_args: Optional[dict[str, Any]] = None,
        say: Say = print,
        debounce: float = DEBOUNCE_SECONDS,
        missing_grace: float = MISSING_GRACE_SECONDS,
    ) -> None:
        if output is not None and len(paths) != 1:
            raise DeditError("-o names one picture, so it can be used with one FILE only.")
        self.session = session
        self.root = root
        self.render_args = render_args or {}
        self.say = say
        self.debounce = debounce
        self.missing_grace = missing_grace
        self.targets = [Target(Path(p).resolve(), output) for p in paths]
        for t in self.targets:
            t.files = {t.path}
        self._lock = threading.Lock()
        self._dirty: set[int] = set()
        self._last_event = 0.0
        self._wake = threading.Event()
        self._observer = None
        self._watches: dict[Path, Any] = {}

    # ------------------------------------------------------------ events

    def notice(self, *paths: str | bytes | None) -> None:
        """Called from watchdog's thread with the paths an event touched."""
        touched = {Path(p.decode() if isinstance(p, bytes) else p).resolve() for p in paths if p}
        with self._lock:
            hit = False
            for index, target in enumerate(self.targets):
                if touched & target.files:
                    self._dirty.add(index)
                    hit = True
            if hit:
                self._last_event = time.monotonic()
        if hit:
            self._wake.set()

    def _sync_watches(self) -> None:
        wanted = {f.parent for t in self.targets for f in t.files if f.parent.is_dir()}
        for folder in list(self._watches):
            if folder not in wanted:
                self._observer.unschedule(self._watches.pop(folder))
        for folder in wanted - set(self._watches):
            self._watches[folder] = self._observer.schedule(_handler_class()(self), str(folder), recursive=False)

    # ------------------------------------------------------------ rendering

    def render_target(self, target: Target) -> bool:
        """Render one scene if its inputs changed; False when it could not be rendered."""
        fingerprint = _fingerprint(target.path, target.files)
        if fingerprint == target.fingerprint:
            return True
        name = target.path.name
        if not target.path.exists():
            if not _appears(target.path, self.missing_grace):
                missing = _fingerprint(target.path, target.files)
                if not target.path.exists():  # checked again: it may have come back while that was taken
                    return self._failed(target, missing, f"{name} is missing (deleted or renamed)")
            fingerprint = _fingerprint(target.path, target.files)  # it came back
        started = time.perf_counter()
        try:
            scene = load_scene(target.path, root=self.root)
            target.files = {target.path, *scene_files(scene)}
            fingerprint = _fingerprint(target.path, target.files)
            output = target.output or default_output(scene, target.path)
            result = self.session.render(scene, output=output, warn=lambda w: self.say(f"warning: {w}"), **self.render_args)
        except SceneError as exc:
            for problem in exc.problems:
                self.say(str(problem))
            self._watch_references_anyway(target)
            return self._failed(target, _fingerprint(target.path, target.files), f"{name} is invalid")
        except DeditError as exc:
            return self._failed(target, fingerprint, f"{name} could not be rendered: {exc}")
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - a watcher outlives one bad render
            return self._failed(target, fingerprint, f"{name} failed: {type(exc).__name__}: {exc}")
        target.fingerprint = fingerprint
        target.renders += 1
        stats = result.stats
        self.say(
            f"[{_now()}] {name} -> {output}: {time.perf_counter() - started:.2f} s, "
            f"{work_summary(stats)} ({self.session.name})"
        )
        return True

    def _watch_references_anyway(self, target: Target) -> None:
        """A document refused for a missing picture still says which files to watch for."""
        from designedit.io import load

        try:
            scene = load(target.path, root=self.root, check_files=False)
        except (DeditError, OSError):
            return
        target.files = {target.path, *scene_files(scene)}

    def _failed(self, target: Target, fingerprint: str, why: str) -> bool:
        target.fingerprint = fingerprint  # do not retry until something changes
        target.failures += 1
        kept = "keeping the last picture" if target.renders else "no picture written yet"
        self.say(f"[{_now()}] {why.rstrip('.')}; {kept}, still watching")  # sentences end with a period
        return False

    # ------------------------------------------------------------ loop

    def run(self, stop: Optional[threading.Event] = None, ready: Optional[Callable[[], None]] = None) -> int:
        """Render everything once, then re-render on change until `stop` is set or Ctrl-C."""
        from watchdog.observers import Observer

        stop = stop or threading.Event()
        self._observer = Observer()
        self._observer.daemon = True
        self._sync_watches()  # watch before the first render, so no early save is missed
        self._observer.start()
        try:
            for target in self.targets:
                self.render_target(target)
            self._sync_watches()
            self.say(f"[{_now()}] watching {len(self._watches)} folder(s); Ctrl-C to stop")
            if ready is not None:
                ready()
            while not stop.is_set():
                batch = self._due()
                if batch is None:
                    self._wake.wait(0.05)
                    self._wake.clear()
                    continue
                for index in sorted(batch):
                    self.render_target(self.targets[index])
                self._sync_watches()
        finally:
            self._observer.stop()
            self._observer.join(timeout=5)
        return 0

    def _due(self) -> Optional[set[int]]:
        with self._lock:
            if not self._dirty or time.monotonic() - self._last_event < self.debounce:
                return None
            batch, self._dirty = self._dirty, set()
            return batch


def _handler_class() -> type:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        """Forwards every event's paths to the watcher (editors write, rename, delete, close)."""

        def __init__(self, watcher: Watcher) -> None:
            super().__init__()
            self.watcher = watcher

        def dispatch(self, event: Any) -> None:
            if getattr(event, "is_directory", False):
                return
            self.watcher.notice(getattr(event, "src_path", None), getattr(event, "dest_path", None))

    return Handler


def _appears(path: Path, grace: float) -> bool:
    """True once `path` exists, waiting up to `grace` seconds for it."""
    deadline = time.monotonic() + grace
    while not path.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _fingerprint(scene: Path, files: set[Path]) -> str:
    """Scene bytes and each picture's version (images.file_version: times, inode, size) in one hash; a
    missing file counts as a state too, and so does a scene that cannot be read as a document (a FIFO put in
    its place is not opened for reading, which would block: its refusal is the state)."""
    from designedit.io import read_document_bytes

    h = hashlib.sha256()
    for path in sorted(files | {scene}):
        h.update(str(path).encode())
        try:
            if path == scene:
                h.update(read_document_bytes(path))
            else:
                h.update(repr(file_version(path.stat())).encode())
        except SceneError as exc:
            h.update(f"<refused: {exc}>".encode())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")
