"""Finding an attention shape's word in the scene's prompt (spec/format.md 5.4)."""

from __future__ import annotations

import re
from typing import Optional


def word_span(prompt: Optional[str], word: str) -> Optional[tuple[int, int]]:
    """Where `word` first stands in `prompt` as whole words (case and runs of spaces aside), else None:
    "balloons" is in "red balloons, a cake" but not in "balloonsmith"."""
    if not prompt or not word.strip():
        return None
    pattern = r"(?<![\w])" + r"\s+".join(re.escape(part) for part in word.split()) + r"(?![\w])"
    found = re.search(pattern, prompt, flags=re.IGNORECASE)
    return found.span() if found else None
