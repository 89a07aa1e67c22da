"""Reproduction runner (see issue: runner)."""
