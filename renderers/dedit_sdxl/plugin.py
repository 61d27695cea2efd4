"""What the core asks of the SDXL renderer before loading it (no torch): its rank for `--renderer auto`,
its options and flags, whether it can run, and what it can refuse at once (`preflight`)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from designedit.rendering.protocol import Availability, RenderOptions

from . import options as own


class SDXLPlugin:
    priority = 100  # above the preview: `auto` takes SDXL whenever it has a model
    label = "SDXL"
    install = "designedit[sdxl]"
    chosen_when = "when a model is configured or found"
    options_type = own.SDXLOptions

    def add_arguments(self, group: argparse._ArgumentGroup) -> None:
        own.add_arguments(group)

    def options_from_args(self, args: argparse.Namespace) -> own.SDXLOptions:
        return own.options_from_args(args)

    def available(self, options: RenderOptions, by_name: bool = False) -> Availability:
        """Yes with a configured model (--model, $DEDIT_MODEL: `auto` then insists on SDXL) or one found in
        the local Hugging Face cache; the options come back with the model filled in. Where the model is,
        and whether torch is installed, are `preflight`'s and loading's to say."""
        sdxl = options.of(own.SDXLOptions)
        spec = own.model_spec(sdxl)
        if spec:
            source = own.model_source(spec)
            completed = options.with_renderer_options(replace(sdxl, model=spec))
            return Availability(True, f"model from {source}", completed, insisted=f"a model is configured ({source})")
        found = own.find_cached_model()
        if found is not None:
            completed = options.with_renderer_options(replace(sdxl, model=found))
            return Availability(True, f"found {found} in the local Hugging Face cache", completed)
        if by_name:
            raise own.no_model_error()
        return Availability(False, f"no SDXL model configured (--model or {own.MODEL_ENV}) or found in the local Hugging Face cache")

    def preflight(self, options: RenderOptions) -> None:
        from .locate import preflight

        preflight(options)


plugin = SDXLPlugin()
