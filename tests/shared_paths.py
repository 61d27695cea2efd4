"""Where the read-only shared material lives: `../shared` beside the checkout (as in CI),
or wherever DEDIT_SHARED points. A missing folder fails the tests that need it loudly."""

import os
from pathlib import Path

SHARED = Path(os.environ.get("DEDIT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
CONFORMANCE = SHARED / "conformance"
FIXTURES = SHARED / "fixtures" / "designedit-examples"
