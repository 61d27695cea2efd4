"""The package's version, in a module of its own so any layer can name it (the output metadata, `dedit
--version`) without importing the public API above them all."""

__version__ = "0.1.0"
