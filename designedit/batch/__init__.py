"""Many scenes on one renderer: lists, folders and globs of scenes, manifests (`--each`), and Ray."""
