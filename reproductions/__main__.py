"""Command line of the reproduction runner: ``python -m reproductions list | run TARGET... | report``."""

import sys


def main(argv=None):
    print("reproductions: the runner is not built yet (see the runner issue); no targets are available.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
