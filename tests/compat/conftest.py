"""Tests against optional libraries, run in their own environment by scripts/check-compat.

The ``traffic`` library (2.13) does not import next to pandas 3, which SkyPact's own
environment uses, so these tests run in a second locked environment (pandas 2, traffic)
built by ``scripts/check-compat``. In SkyPact's main environment they are not collected;
where ``SKYPACT_COMPAT=1`` (set by that script) a missing library is a failure, not a skip.
"""

import importlib.util
import os

import pytest

_HAVE_TRAFFIC = importlib.util.find_spec("traffic") is not None

if not _HAVE_TRAFFIC:
    if os.environ.get("SKYPACT_COMPAT") == "1":
        raise pytest.UsageError(
            "SKYPACT_COMPAT=1 but the traffic library is not installed:"
            " run scripts/check-compat, which builds its environment"
        )
    collect_ignore_glob = ["test_*.py"]
