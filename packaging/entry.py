"""Entry point of the bundled `meeting-buddy` executable: the same `app.cli:main` that the
installed console script runs."""
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
