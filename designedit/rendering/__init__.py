"""Rendering: the renderer protocol and registry, a render session, outputs and atomic writes, OpenRaster, the
inversion cache."""
