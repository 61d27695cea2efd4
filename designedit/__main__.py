"""`python -m designedit ...`: the same command line as `dedit ...`."""

import sys

from designedit.cli import main

if __name__ == "__main__":
    sys.exit(main())
