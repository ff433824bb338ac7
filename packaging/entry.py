"""Entry point of the bundled `meeting-buddy` executable: the same launcher (`ui.main:main`)
that the installed console script runs."""
import sys

from ui.main import main

if __name__ == "__main__":
    sys.exit(main())
