"""The import rules of the layers (docs/architecture.md, "Layers"), checked on the source with `ast`, imports
inside functions and under TYPE_CHECKING included.

- A module of designedit imports only its own package or packages of lower rank (`RANKS`).
- A renderer plugin (a package under renderers/) imports only itself and designedit's `PLUGIN_MAY_IMPORT`.
- Nothing in designedit imports a renderer plugin or the ML stack (`ML_STACK`): loading, validating and
  compiling a scene work without torch.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

REPO = Path(__file__).resolve().parents[1]
CORE = "designedit"

# designedit's packages and top-level modules, lowest first. Equal ranks may not import each other.
RANKS = {
    "errors": 0, "version": 0,  # the error types; the version number
    "model": 1,  # the typed scene, source locations, model reflection
    "imaging": 2,  # opening pictures safely, geometry, warps, compositing
    "checks": 3,  # references, limits, files, paths, settings
    "io": 4, "masks": 4,  # reading and writing documents; rasterising and resolving masks
    "plan": 5,  # the plain-data plan a renderer executes
    "compiler": 6,  # scene -> plan, one pass per module
    "rendering": 7,  # renderer protocol and choice, sessions, outputs
    "watch": 8,  # re-render on save
    "importing": 8,  # layered design files (PSD, OpenRaster) -> scenes, and edits made there back
    "web": 8,  # the HTTP servers' common ground: token, origin and body checks, binding
    "batch": 8,  # many scenes on one renderer, manifests (--each), Ray
    "draft": 8,  # scenes from an instruction through an OpenAI-compatible endpoint
    "service": 9, "studio": 9,  # `dedit serve` (render jobs over HTTP); `dedit studio` (a live page)
    "cli": 10,  # the dedit program
    "__init__": 11, "__main__": 11,  # the public API (designedit.load, dump, compile, render)
}
PLUGIN_MAY_IMPORT = {"errors", "imaging", "plan", "rendering"}
ML_STACK = {"torch", "diffusers", "transformers", "accelerate", "safetensors", "huggingface_hub", "open_clip"}


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in `tree`, relative ones made absolute. `from a import b` gives
    `a.b` (b may be a submodule; `unit_of` decides). `import_module("x.y")` with a literal name counts too."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            target = node.args[0].value
            if name in ("import_module", "__import__") and isinstance(target, str) and not target.startswith("."):
                yield node.lineno, target


def unit_of(dotted: str, root: Path) -> Optional[str]:
    """The designedit package or top module `dotted` names ("__init__" for the API itself), or None when it
    is outside designedit."""
    parts = dotted.split(".")
    if parts[0] != CORE:
        return None
    if len(parts) == 1:
        return "__init__"
    name = parts[1]
    exists = (root / CORE / name).is_dir() or (root / CORE / f"{name}.py").is_file()
    return name if exists else "__init__"  # `from designedit import load`: a name of the API


def modules(root: Path, top: Path) -> Iterator[tuple[Path, str, bool]]:
    """(file, dotted module name, is a package's __init__) of every .py file under `top`."""
    for path in sorted(top.rglob("*.py")):
        rel = path.relative_to(root if top.name == CORE else top.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        yield path, ".".join(parts[:-1] if is_package else parts), is_package


def plugin_names(root: Path) -> set[str]:
    renderers = root / "renderers"
    return {p.name for p in renderers.iterdir() if (p / "__init__.py").is_file()} if renderers.is_dir() else set()


def violations(root: Path) -> list[str]:
    """Every import in `root`'s designedit/ and renderers/ that breaks the rules, one line each."""
    found: list[str] = []
    plugins = plugin_names(root)
    for path, module, is_package in modules(root, root / CORE):
        where = path.relative_to(root)
        own = module.split(".")[1] if "." in module else ("__init__" if is_package else module)
        if own not in RANKS:
            found.append(f"{where}: {own!r} has no rank (add it to RANKS)")
            continue
        for line, name in imported_names(ast.parse(path.read_text("utf-8")), module, is_package):
            top = name.split(".")[0]
            if top in plugins or top in ML_STACK:
                found.append(f"{where}:{line}: the core imports {name} (a renderer plugin or the ML stack)")
                continue
            unit = unit_of(name, root)
            if unit is None or unit == own:
                continue
            if unit not in RANKS:
                found.append(f"{where}:{line}: imports {name}, which has no rank")
            elif RANKS[unit] >= RANKS[own]:
                found.append(f"{where}:{line}: {own} (rank {RANKS[own]}) imports {name} ({unit}, rank {RANKS[unit]})")
    for plugin in sorted(plugins):
        for path, module, is_package in modules(root, root / "renderers" / plugin):
            where = path.relative_to(root)
            for line, name in imported_names(ast.parse(path.read_text("utf-8")), module, is_package):
                top = name.split(".")[0]
                if top in plugins and top != plugin:
                    found.append(f"{where}:{line}: renderer {plugin} imports another renderer, {name}")
                unit = unit_of(name, root)
                if unit is not None and unit not in PLUGIN_MAY_IMPORT:
                    found.append(f"{where}:{line}: renderer {plugin} imports {name} "
                                 f"(renderers see only designedit.{', designedit.'.join(sorted(PLUGIN_MAY_IMPORT))})")
    return found


def test_the_repository_keeps_its_layers():
    assert violations(REPO) == []


def test_every_designedit_package_has_a_rank():
    units = {p.stem if p.is_file() else p.name for p in (REPO / CORE).iterdir()
             if (p.suffix == ".py") or (p / "__init__.py").is_file()}
    assert units <= set(RANKS), f"no rank for {sorted(units - set(RANKS))}"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


CLEAN = {
    "designedit/__init__.py": "from designedit.errors import DeditError\n",
    "designedit/errors.py": "class DeditError(Exception): pass\n",
    "designedit/model/__init__.py": "",
    "designedit/model/scene.py": "from designedit.errors import DeditError\nfrom . import source\n",
    "designedit/model/source.py": "import re\n",
    "designedit/compiler/__init__.py": "from designedit.model import scene\nfrom designedit import errors\n",
    "designedit/masks/__init__.py": "import numpy\n",
    "designedit/plan/__init__.py": "from dataclasses import dataclass\n",
    "renderers/dedit_fake/__init__.py": "import torch\nfrom designedit.plan import Plan\nfrom .run import go\n",
    "renderers/dedit_fake/run.py": "from designedit.errors import DeditError\n",
}


def test_a_clean_tree_passes(tmp_path):
    _write(tmp_path, CLEAN)
    assert violations(tmp_path) == []


def test_an_upward_import_is_reported(tmp_path):
    """The checker itself: each kind of broken rule in a small fake tree is found, with its line."""
    _write(tmp_path, {
        **CLEAN,
        # upward, inside a function: model (1) -> compiler (6)
        "designedit/model/scene.py": "import re\n\ndef f():\n    from designedit.compiler import compile_scene\n",
        # equal rank, another package: masks (4) -> io (4); and the API's name from below it
        "designedit/masks/__init__.py": "from designedit.io import load\nfrom designedit import load as l\n",
        "designedit/io/__init__.py": "",
        # the core importing torch, and a renderer by a dynamic import
        "designedit/compiler/__init__.py": "import torch.nn\nimport importlib\nimportlib.import_module('dedit_fake')\n",
        # a renderer reaching past its allowance; a relative import that climbs out of a package
        "renderers/dedit_fake/run.py": "from designedit.masks import shift\n",
        "designedit/model/source.py": "from ..compiler import x\n",
        "designedit/newthing/__init__.py": "",
    })
    found = "\n".join(violations(tmp_path))
    assert "designedit/model/scene.py:4: model (rank 1) imports designedit.compiler.compile_scene" in found
    assert "designedit/masks/__init__.py:1: masks (rank 4) imports designedit.io.load (io, rank 4)" in found
    assert "designedit/masks/__init__.py:2: masks (rank 4) imports designedit.load (__init__, rank 11)" in found
    assert "designedit/compiler/__init__.py:1: the core imports torch.nn" in found
    assert "designedit/compiler/__init__.py:3: the core imports dedit_fake" in found
    assert "renderers/dedit_fake/run.py:1: renderer dedit_fake imports designedit.masks.shift" in found
    assert "designedit/model/source.py:1: model (rank 1) imports designedit.compiler.x" in found
    assert "'newthing' has no rank" in found
    assert len(violations(tmp_path)) == 8
