import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray download fails fast

from shared_paths import CONFORMANCE  # noqa: E402

if not CONFORMANCE.is_dir():
    raise RuntimeError(f"the shared conformance folder is missing: {CONFORMANCE} (set DEDIT_SHARED)")
