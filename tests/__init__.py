"""The test suite: a package, so that its helpers import as ``tests._tiny_targets`` and
``tests._small_models`` (in subprocesses too, with the checkout on PYTHONPATH)."""
