"""Rendering: the renderer protocol (protocol), the installed renderers (registry) and the choice among them
(select), a render session (session), outputs and atomic writes, OpenRaster, the inversion cache, and the small
in-memory LRU renderers keep things in (lru)."""
