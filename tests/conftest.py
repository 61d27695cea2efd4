import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray download fails fast
# caches written by the code under test stay out of the user's home
os.environ.setdefault("DEDIT_CACHE_DIR", tempfile.mkdtemp(prefix="dedit-test-cache-"))

from shared_paths import CONFORMANCE  # noqa: E402

if not CONFORMANCE.is_dir():
    raise RuntimeError(f"the shared conformance folder is missing: {CONFORMANCE} (set DEDIT_SHARED)")
