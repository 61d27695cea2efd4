"""Choosing the renderer: the one named, or for `auto` the best installed one that can run.

Every installed renderer describes itself (a `RendererPlugin`, designedit.rendering.registry) without
its class being loaded. `auto` asks them in priority order whether they can run with the options given
(`available`: the SDXL renderer answers from its options and the local Hugging Face cache, so `auto` on
a machine without a model starts the preview at once instead of loading torch first), then loads the
first that says yes. One that says yes but fails to load is passed over, unless the user's settings
asked for it (`Availability.insisted`, e.g. a configured model): that is an error, never a silent
fallback. A renderer named with --renderer that cannot run is an error too.

The choice is always explained in one line (`Choice.line`) so a user who sees a draft instead of a
diffusion render knows why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from designedit.errors import DeditError
from designedit.rendering.protocol import RendererPlugin, RenderOptions
from designedit.rendering.registry import find_plugin, installed, load_renderer_class


@dataclass
class Choice:
    name: str
    cls: type
    reason: str  # one line for the user
    options: RenderOptions  # as the chosen renderer's plugin completed them (SDXL: the model found)
    plugin: RendererPlugin

    @property
    def line(self) -> str:
        return f"renderer: {self.name} ({self.reason})"

    @property
    def own_options(self) -> Any:
        """The chosen renderer's own options (its `options_type`), or None when it declares none."""
        kind = self.plugin.options_type
        return self.options.of(kind) if kind is not None else None


def _load(name: str) -> type:
    try:
        return load_renderer_class(name)
    except DeditError:
        raise
    except ModuleNotFoundError as exc:  # an optional install left out
        install = getattr(installed().get(name), "install", "")
        hint = f" (pip install '{install}')" if install else ""
        raise DeditError(f"the {name} renderer needs the package {exc.name}, which is not installed{hint}.") from exc
    except Exception as exc:  # noqa: BLE001 - an installed plugin that fails to import
        raise DeditError(f"the {name} renderer cannot be loaded: importing it failed with: {exc}.") from exc


def choose_renderer(name: str, options: RenderOptions, check: bool = False) -> Choice:
    """The renderer `name` ("auto" or an installed one) with its completed options. `check`: also run the
    plugin's preflight before loading a renderer the user asked for (what `RenderSession` does, so a
    missing model is said before torch is imported)."""
    if name == "auto":
        return _choose_auto(options, check)
    plugin = find_plugin(name)
    if check:
        plugin.preflight(options)
    offer = plugin.available(options, by_name=True)
    if not offer.ok:
        raise DeditError(f"the {name} renderer cannot run here: {offer.reason}.")
    reason = "; ".join(filter(None, ["chosen with --renderer", offer.reason]))
    return Choice(name, _load(name), reason, offer.options or options, plugin)


def _choose_auto(options: RenderOptions, check: bool) -> Choice:
    passed_over: list[str] = []  # why each renderer ranked above the chosen one was not taken
    plugins = list(installed().items())
    for rank, (name, plugin) in enumerate(plugins):
        offer = plugin.available(options)
        if not offer.ok:
            passed_over.append(offer.reason)
            continue
        if offer.insisted and check:
            plugin.preflight(offer.options or options)
        try:
            cls = _load(name)
        except DeditError as exc:  # a missing or broken optional install must not break the others
            why_not = str(exc).rstrip(".")
            if offer.insisted:
                remedy = _remedy(plugin, plugins[rank + 1 :], options)
                raise DeditError(f"{offer.insisted} but {why_not}{'; ' + remedy if remedy else ''}.") from exc
            passed_over.append(f"{offer.reason} but {why_not}")
            continue
        return Choice(name, cls, "; ".join(filter(None, [*passed_over, offer.reason])), offer.options or options, plugin)
    raise DeditError(f"no installed renderer can run here: {'; '.join(passed_over)}.")


def _remedy(plugin: RendererPlugin, lower: list[tuple[str, RendererPlugin]], options: RenderOptions) -> str:
    """What to do when a renderer the user asked for cannot be loaded: install it, or use another."""
    ways = [f"install {plugin.install}"] if plugin.install else []
    fallback = next((name for name, other in lower if other.available(options).ok), None)
    if fallback is not None:
        ways.append(f"use --renderer {fallback}")
    return " or ".join(ways)
