"""Where the SDXL model is, decided without torch.

`dedit render --renderer sdxl` must say at once that no model is configured,
that `--model x.safetensors` does not exist, or that torch is not installed:
importing torch and diffusers alone takes seconds. Everything here is file
system work (and huggingface_hub's offline cache lookup, which needs no
torch); `loading` opens the weights where this module says they are.

A model is named by `--model` (SDXLOptions.model) or $DEDIT_MODEL and may be
a diffusers folder (it holds model_index.json), a single checkpoint file (a
`.safetensors` in the original SDXL layout), or a hub id ("org/name") already
in the local Hugging Face cache.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from designedit.errors import ArgumentError, DeditError
from designedit.rendering.protocol import RenderOptions

from .options import MODEL_ENV, SDXLOptions, find_cached_model, model_spec, no_model_error

# what the renderer imports; all come with `pip install 'designedit[sdxl]'`
NEEDED_PACKAGES = ("torch", "diffusers", "transformers", "safetensors", "huggingface_hub")
INSTALL_HINT = "pip install 'designedit[sdxl]' (in a source checkout: pip install -e '.[sdxl]')"
CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt", ".bin", ".pt", ".pth")


@dataclass(frozen=True)
class ModelLocation:
    kind: str  # "folder" (diffusers layout), "file" (single checkpoint) or "hub" (a cached hub id)
    path: Path  # the folder, the file, or the hub id's local snapshot folder
    spec: str  # as the user wrote it

    @property
    def label(self) -> str:
        """How stats and caches name the model: a hub id with its snapshot revision, else the resolved path."""
        return f"hub:{self.spec}@{self.path.name}" if self.kind == "hub" else str(self.path.resolve())


def hub_snapshot(repo_id: str) -> Optional[Path]:
    """The local snapshot folder of a hub id, or None; never touches the network."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached (or not a valid id): the caller names what was tried
        return None


def _looks_like_hub_id(spec: str) -> bool:
    return spec.count("/") == 1 and not spec.startswith((".", "/", "~")) and "\\" not in spec and all(spec.split("/"))


def locate(spec: str) -> ModelLocation:
    """Where the model named `spec` is. A path that names no model (it does not exist, a folder without
    model_index.json, a file that is not a checkpoint) is ArgumentError (exit status 2); a hub id not in the
    local cache, or a diffusers folder with a part missing, is DeditError (exit status 1); one sentence each."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ArgumentError(f"model folder {path} has no model_index.json, so it is not a diffusers SDXL folder.")
        _check_complete(path, f"the model folder {path}")
        return ModelLocation("folder", path, spec)
    if path.is_file():
        _check_checkpoint(path)
        return ModelLocation("file", path, spec)
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        raise ArgumentError(f"the model file {path} does not exist.")
    if _looks_like_hub_id(spec):
        snap = hub_snapshot(spec)
        if snap is None:
            raise DeditError(
                f"model {spec!r} is neither a folder nor a file, and as a hub id it is not in the local Hugging Face "
                "cache (downloads are off)."
            )
        _check_complete(snap, f"the hub id {spec} in the local Hugging Face cache ({snap})")
        return ModelLocation("hub", snap, spec)
    if path.is_absolute() or spec.startswith((".", "~")) or os.sep in spec:
        raise ArgumentError(f"model {spec!r} was not found: there is no folder or file {path}.")
    raise ArgumentError(f"model {spec!r} was not found: it is not a folder, a .safetensors file or an org/name hub id.")


MODEL_KINDS = "a model is a diffusers folder, a hub id in the local Hugging Face cache or a .safetensors checkpoint"
# the first bytes of pictures someone might pass as --model by mistake (WebP: RIFF....WEBP)
PICTURE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"II*\x00": "TIFF",
                      b"MM\x00*": "TIFF", b"RIFF": "WebP"}


def _check_checkpoint(path: Path) -> None:
    """ArgumentError unless `path` has a checkpoint's suffix: a picture, or a file of another kind, is not a
    checkpoint, and no --model-config could make it one."""
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        return  # its contents are the loader's to judge
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        head = b""
    kind = next((name for magic, name in PICTURE_SIGNATURES.items() if head.startswith(magic)), None)
    if kind is not None:
        raise ArgumentError(f"{path} is a {kind} picture, not an SDXL checkpoint; {MODEL_KINDS}.")
    suffixes = ", ".join(CHECKPOINT_SUFFIXES[:-1]) + " or " + CHECKPOINT_SUFFIXES[-1]
    raise ArgumentError(f"{path} is not an SDXL checkpoint (a {suffixes} file); {MODEL_KINDS}.")


def _check_complete(folder: Path, what: str) -> None:
    """DeditError naming the first part a diffusers folder lacks: a folder that model_index.json lists, a
    part's config, a model's weights (diffusers would only say "no file named config.json found")."""
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DeditError(f"{what} has a model_index.json that cannot be read as JSON ({exc}).") from exc
    if not isinstance(index, dict):
        raise DeditError(f"{what} has a model_index.json that is not a JSON object.")
    for part, entry in index.items():
        if part.startswith("_") or not (isinstance(entry, list) and entry and entry[0]):
            continue  # settings, and parts the pipeline does without (feature_extractor: [null, null])
        missing = _missing_in_part(folder / part, part)
        if missing is not None:
            raise DeditError(f"{what} is incomplete: {missing}, which its model_index.json lists.")


def _missing_in_part(sub: Path, part: str) -> Optional[str]:
    if not sub.is_dir():
        return f"it has no {part} folder"
    if part.startswith("tokenizer"):
        return None  # a tokenizer comes as one of several sets of files
    config = "scheduler_config.json" if part == "scheduler" else "config.json"
    if not (sub / config).is_file():
        return f"its {part} folder has no {config}"
    if part != "scheduler" and not any(f.suffix in (".safetensors", ".bin") for f in sub.iterdir()):
        return f"its {part} folder has no weights (.safetensors or .bin files)"
    return None


def missing_packages() -> list[str]:
    """The packages the renderer needs that cannot be imported here (found without importing them)."""
    missing = []
    for name in NEEDED_PACKAGES:
        if name in sys.modules:
            if sys.modules[name] is None:  # an import of it was blocked
                missing.append(name)
            continue
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def preflight(options: RenderOptions) -> None:
    """What can be told before importing torch: a model is named (or found in the local Hugging Face
    cache), the packages are installed, and the model is where it is said to be. DeditError otherwise."""
    spec = model_spec(options.of(SDXLOptions))
    if not spec and find_cached_model() is None:
        raise no_model_error()
    missing = missing_packages()
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise DeditError(f"the SDXL renderer needs {_and(missing)}, which {verb} not installed: {INSTALL_HINT}.")
    if spec:
        locate(spec)


def available(options: RenderOptions) -> tuple[bool, str]:
    """Cheap check: is a model named and present, and is the renderer installed? Imports nothing heavy."""
    spec = model_spec(options.of(SDXLOptions))
    if not spec:
        return False, f"no SDXL model is configured (--model or {MODEL_ENV})."
    missing = missing_packages()
    if missing:
        return False, f"the SDXL renderer needs {_and(missing)} ({INSTALL_HINT})."
    try:
        where = locate(spec)
    except DeditError as exc:
        return False, str(exc)
    described = {"folder": f"model folder {where.path}.", "file": f"single-file checkpoint {where.path}.",
                 "hub": f"hub id {spec} from the local cache."}
    return True, described[where.kind]


def config_sizes(where: ModelLocation) -> Optional[tuple[int, int]]:
    """(VAE factor, UNet sample size) from the diffusers configs of a folder or a hub snapshot, as the
    pipeline derives them, so a plan can be compiled without the weights; None for a single-file
    checkpoint or configs that cannot be read."""
    if where.kind not in ("folder", "hub"):
        return None
    try:
        vae = json.loads((where.path / "vae" / "config.json").read_text())
        unet = json.loads((where.path / "unet" / "config.json").read_text())
        if isinstance(unet["sample_size"], int):
            return 2 ** (len(vae["block_out_channels"]) - 1), unet["sample_size"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None
