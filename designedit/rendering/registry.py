"""The installed renderers: entry-point group `designedit.renderers`, each with its plugin description.

`installed()` lists them by priority, highest first, each with the `RendererPlugin` its package's top
module offers as `plugin` (cheap: no renderer class is loaded). A package without one is described by
`ClassPlugin`, which asks its class and ranks below the preview. `load_renderer_class(name)` loads the
class itself (for SDXL: torch, seconds).
"""

from __future__ import annotations

from dataclasses import fields, replace
from functools import cache
from importlib import import_module
from typing import Any

from designedit.rendering.protocol import Availability, RendererPlugin, RenderOptions

ENTRY_POINT_GROUP = "designedit.renderers"
PLUGIN_ATTRIBUTE = "plugin"  # the module-level name of a renderer package's RendererPlugin


def _entry_points() -> list:
    from importlib.metadata import entry_points  # only when a renderer is asked for (costs start-up time)

    return list(entry_points(group=ENTRY_POINT_GROUP))


def renderer_names() -> list[str]:
    return sorted({ep.name for ep in _entry_points()})


def no_such_renderer(name: str):
    from designedit.errors import ArgumentError

    known = ", ".join(renderer_names()) or "none"
    return ArgumentError(f"no renderer named {name!r} is installed (installed: {known}).")


def load_renderer_class(name: str) -> type:
    ep = next((ep for ep in _entry_points() if ep.name == name), None)
    if ep is None:
        raise no_such_renderer(name)
    return ep.load()


@cache
def installed() -> dict[str, RendererPlugin]:
    """Renderer name -> its plugin, highest priority first (then by name)."""
    found: dict[str, RendererPlugin] = {}
    for ep in _entry_points():
        if ep.name not in found:  # the first of two with one name, as loading takes it
            found[ep.name] = _plugin(ep)
    return dict(sorted(found.items(), key=lambda item: (-item[1].priority, item[0])))


def find_plugin(name: str) -> RendererPlugin:
    plugin = installed().get(name)
    if plugin is None:
        raise no_such_renderer(name)
    return plugin


def _plugin(ep) -> RendererPlugin:
    try:
        module = import_module(ep.module)
    except Exception:  # noqa: BLE001 - a broken package: loading its class says why, in plain words
        return ClassPlugin(ep.name)
    plugin = getattr(module, PLUGIN_ATTRIBUTE, None)
    return plugin if plugin is not None else ClassPlugin(ep.name)


def with_settings(options: RenderOptions, **settings: Any) -> RenderOptions:
    """`settings` (designedit.render's model=, device=, dtype= that were given) handed to every installed
    renderer whose options class has a field of that name; renderers without one ignore them."""
    for plugin in installed().values():
        kind = plugin.options_type
        if kind is None:
            continue
        names = {f.name for f in fields(kind)}
        mine = {key: value for key, value in settings.items() if key in names}
        if mine:
            options = options.with_renderer_options(replace(options.of(kind), **mine))
    return options


class ClassPlugin:
    """The description of a renderer package that offers no `plugin`: no options, no flags, and for `auto`
    its class's own `available(options)` (loading the class), below the preview."""

    priority = 0
    install = ""
    chosen_when = ""
    options_type = None

    def __init__(self, name: str) -> None:
        self.name = self.label = name

    def add_arguments(self, group) -> None:
        pass

    def options_from_args(self, args) -> None:
        return None

    def available(self, options: RenderOptions, by_name: bool = False) -> Availability:
        if by_name:
            return Availability(True, "")
        try:
            check = getattr(load_renderer_class(self.name), "available", None)
        except Exception as exc:  # noqa: BLE001 - any failure to load is a no, said in its own words
            return Availability(False, f"the {self.name} renderer cannot be loaded ({exc})")
        if check is None:
            return Availability(True, "")
        ok, why = check(options)
        return Availability(bool(ok), str(why).rstrip("."))

    def preflight(self, options: RenderOptions) -> None:
        pass
