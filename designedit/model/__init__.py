"""The scene model: typed scene objects, their document vocabulary and source locations, quoting for messages."""
