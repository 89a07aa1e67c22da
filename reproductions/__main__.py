"""``python -m reproductions``: the command line (:mod:`reproductions.cli`)."""

import sys

from keras_lecture_zoo.reproductions.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
