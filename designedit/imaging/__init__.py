"""Pictures: safe opening and decoding, file hashes, whole-pixel geometry, warps and blending."""
