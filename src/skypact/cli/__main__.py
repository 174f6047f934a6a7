"""``python -m skypact.cli``: the command line."""

from skypact.cli import entrypoint

entrypoint()
