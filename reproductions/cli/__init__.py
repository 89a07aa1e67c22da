"""The command line, ``python -m reproductions`` (console script ``zoo-repro``): ``list``, ``run``, ``report``,
``audit`` and ``export-weights``. Every mistake is one line naming the option and what it allows, exit status 2."""
