"""Checks on a document beyond its shape: references, numeric limits, files and paths, command-line settings."""
