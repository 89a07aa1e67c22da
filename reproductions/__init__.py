"""Reproduction runner: each experiment of the lectures as a target, trained over seeds into results/.

``python -m reproductions list | run TARGET... | report``; targets live in ``reproductions.targets``.
"""
