"""dedit: declarative, training-free image editing with SDXL (the DesignEdit method).

The core never imports torch: loading, validating and compiling a scene work
without any ML stack. Public API:

    designedit.load(path) -> Scene
    designedit.dump(scene, form) -> str          # form: "xml" | "json"
    designedit.compile(scene, schedule="fast") -> Plan
    designedit.render(path_or_scene, ...) -> RenderResult   # .image, .stats, .renderer, .save(path)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from designedit.errors import DeditError, Problem, SceneError
from designedit.version import __version__

if TYPE_CHECKING:
    from designedit.model.scene import Scene

__all__ = ["load", "dump", "compile", "render", "Scene", "SceneError", "DeditError", "Problem", "__version__"]


def load(path, root=None, check_files: bool = True) -> Scene:
    from designedit.io import load as _load

    return _load(path, root=root, check_files=check_files)


def dump(scene: Scene, form: str = "xml") -> str:
    from designedit.io import dump as _dump

    return _dump(scene, form)


def compile(scene: Scene, schedule: str = "fast", **options: Any):  # noqa: A001 - the public name
    from designedit.compiler import compile_scene

    return compile_scene(scene, schedule=schedule, **options)


def __getattr__(name: str) -> Any:
    # `render` lives in designedit.rendering.session and `Scene` in designedit.model.scene (pydantic), imported on first use:
    # `import designedit` stays light, so the command line answers Ctrl-C from its first moments
    if name == "render":
        from designedit.rendering.session import render

        return render
    if name == "Scene":
        from designedit.model.scene import Scene

        return Scene
    raise AttributeError(f"module 'designedit' has no attribute {name!r}")
