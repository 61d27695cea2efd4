"""`dedit studio`: a live page for one scene, whose gestures are written into the scene file."""
