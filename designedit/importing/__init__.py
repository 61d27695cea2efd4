"""Layered design files (PSD, OpenRaster) become scenes, and edits made in a design program come back (spec/import.md)."""
