"""The studio's shared state: what the page shows, published by the render thread and read by every open page.

Each publish makes a new numbered snapshot (a plain JSON-able dict) and wakes the pages' event streams; a
page always receives the latest snapshot, never a queue of stale ones.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any


class Board:
    def __init__(self, **initial: Any) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"version": 0, **initial}
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.closed = False

    def publish(self, **changes: Any) -> dict[str, Any]:
        """Update some fields, number the result, wake every listener; returns the new snapshot."""
        with self._lock:
            self._state.update(changes)
            self._state["version"] += 1
            snapshot = copy.deepcopy(self._state)
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that page's loop is closed: it is gone
                pass
        return snapshot

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._state)

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return copy.deepcopy(self._state.get(key, default))

    def listen(self) -> asyncio.Event:
        """An event set at every publish (called from the page's event loop)."""
        event = asyncio.Event()
        with self._lock:
            self._waiters.add((asyncio.get_running_loop(), event))
        return event

    def forget(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = {w for w in self._waiters if w[1] is not event}

    def close(self) -> None:
        """Ends every event stream (the server is stopping)."""
        self.closed = True
        self.publish()
